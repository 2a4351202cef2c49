use loco_rs::prelude::*;

use crate::models::_entities::posts;
use serde::{Deserialize, Serialize};

pub struct Worker {
    pub ctx: AppContext,
}

#[derive(Deserialize, Debug, Serialize)]
pub struct WorkerArgs {
    pub post_id: i64,
}

/// Where reports go when a test listens: `(post id, found)`.
#[derive(Clone, Debug)]
pub struct ReportSink(pub std::sync::mpsc::Sender<(i64, bool)>);

#[async_trait]
impl BackgroundWorker<WorkerArgs> for Worker {
    /// Creates a new instance of the Worker with the given application context.
    ///
    /// This function is called when registering the worker with the queue system.
    ///
    /// # Parameters
    /// * `ctx` - The application context containing shared resources
    fn build(ctx: &AppContext) -> Self {
        Self { ctx: ctx.clone() }
    }

    /// Returns the class name of the worker.
    ///
    /// This name is used when enqueueing jobs and identifying the worker in logs.
    /// The implementation returns the struct name as a string.
    fn class_name() -> String {
        "Report".to_string()
    }

    /// Returns tags associated with this worker.
    ///
    /// Tags can be used to filter which workers run during startup.
    /// The default implementation returns an empty vector (no tags).
    fn tags() -> Vec<String> {
        Vec::new()
    }

    /// Performs the actual work when a job is processed.
    ///
    /// This is the main function that contains the worker's logic.
    /// It gets executed when a job is dequeued from the job queue.
    ///
    /// # Returns
    /// * `Result<()>` - Ok if the job completed successfully, Err otherwise
    async fn perform(&self, args: WorkerArgs) -> Result<()> {
        // Read through the router: a replica that has the post, else the primary.
        let db = multidb_loco::db(&self.ctx)?;
        let post = posts::Entity::find_by_id(args.post_id).one(&db).await?;
        tracing::info!(post_id = args.post_id, found = post.is_some(), "report");
        if let Some(sink) = self.ctx.shared_store.get::<ReportSink>() {
            let _ = sink.0.send((args.post_id, post.is_some()));
        }
        Ok(())
    }
}
