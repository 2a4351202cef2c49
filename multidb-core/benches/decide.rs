//! One whole routing decision (`route::decide` with a round-robin policy)
//! over 1, 2, 16 and 64 replicas: it should stay flat. Two cases: every
//! replica usable (the common one) and all but one down (the worst scan).
//!
//!     cargo bench -p multidb-core --bench decide

// criterion_group! generates an undocumented `pub fn`.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, black_box, criterion_group, criterion_main};
use multidb_core::__private::{Facts, Op, ReplicaState, TaskState, decide};
use multidb_core::Access;
use multidb_core::policy::{ReplicaPolicy, RoundRobin};

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("decide");
    for replicas in [1usize, 2, 16, 64] {
        let policy = RoundRobin::starting_at(0);
        let facts = Facts {
            task: TaskState::Scoped {
                pinned: false,
                wrote: false,
            },
            ..Facts::new(Op::Statement(Access::Read), replicas)
        };
        let usable = vec![ReplicaState::Usable; replicas];
        let mut one_left = vec![ReplicaState::Down; replicas];
        if let Some(last) = one_left.last_mut() {
            *last = ReplicaState::Usable;
        }
        for (case, states) in [("all_usable", &usable), ("one_usable", &one_left)] {
            group.bench_with_input(BenchmarkId::new(case, replicas), &replicas, |b, _| {
                b.iter(|| decide(black_box(&facts), || policy.pick(replicas), |i| states[i]))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
