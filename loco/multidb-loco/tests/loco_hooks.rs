//! The integration's hooks on Loco's own test context (SQLite, no server):
//! settings refused at start, one `MultiDb` per process, the middleware's
//! place, the extractor's message, the job payload.

use std::collections::BTreeMap;

use loco_rs::app::AppContext;
use loco_rs::tests_cfg::app::get_app_context;
use multidb_loco::jobs::Causal;
use multidb_loco::{MultiDb, connect, db, middlewares};

fn with_settings(mut ctx: AppContext, settings: serde_json::Value) -> AppContext {
    let mut initializers = BTreeMap::new();
    initializers.insert("multidb".to_owned(), settings);
    ctx.config.initializers = Some(initializers);
    ctx.config.database.uri = "sqlite::memory:".to_owned();
    ctx
}

#[tokio::test]
async fn without_the_initializer_the_message_says_what_to_add() {
    let ctx = get_app_context().await;
    let Err(error) = db(&ctx) else {
        panic!("no MultiDb before the initializer ran")
    };
    assert!(
        error.to_string().contains("multidb_loco::initializer()"),
        "{error}"
    );
}

#[tokio::test]
async fn bad_settings_stop_the_start_with_the_setting_named() {
    let ctx = with_settings(
        get_app_context().await,
        serde_json::json!({ "replicas": [], "max_replica_lag": 2 }),
    );
    let Err(error) = connect(&ctx).await else {
        panic!("an unknown field is refused")
    };
    let message = error.to_string();
    assert!(message.contains("initializers.multidb"), "{message}");
    assert!(message.contains("max_replica_lag"), "{message}");
}

#[tokio::test]
async fn one_multidb_per_configuration_however_often_loco_boots() -> loco_rs::Result<()> {
    let settings = serde_json::json!({ "replicas": "sqlite::memory:", "policy": "round_robin" });
    // `cargo loco start` builds two contexts from the same config.
    let first = connect(&with_settings(get_app_context().await, settings.clone())).await?;
    let second = connect(&with_settings(get_app_context().await, settings)).await?;
    assert!(std::ptr::eq(first.primary(), second.primary()));
    assert_eq!(first.replicas().len(), 1);
    // And it is what handlers get.
    let ctx = with_settings(
        get_app_context().await,
        serde_json::json!({ "replicas": "sqlite::memory:", "policy": "round_robin" }),
    );
    connect(&ctx).await?;
    assert!(std::ptr::eq(db(&ctx)?.primary(), first.primary()));
    Ok(())
}

#[tokio::test]
async fn without_a_block_the_app_runs_on_ctx_db() -> loco_rs::Result<()> {
    let ctx = get_app_context().await;
    let db: MultiDb = connect(&ctx).await?;
    assert!(db.replicas().is_empty());
    Ok(())
}

#[tokio::test]
async fn pinning_sits_inside_the_logger_and_outside_timeout_and_catch_panic() {
    let names: Vec<&str> = middlewares(&get_app_context().await)
        .iter()
        .map(|m| m.name())
        .collect();
    // Loco applies the stack in order: later entries wrap earlier ones.
    let at = |name: &str| names.iter().position(|n| *n == name);
    let pinning = at("multidb_pinning");
    assert!(pinning > at("timeout_request"), "{names:?}");
    assert!(pinning > at("catch_panic"), "{names:?}");
    assert!(pinning < at("logger"), "{names:?}");
    assert!(pinning < at("request_id"), "{names:?}");
}

#[test]
fn a_job_payload_carries_its_position_as_text() -> Result<(), serde_json::Error> {
    let job = Causal {
        args: serde_json::json!({ "id": 7 }),
        after: Some("v1.1.pg.16b3748".to_owned()),
        wrote: false,
    };
    let text = serde_json::to_string(&job)?;
    assert_eq!(text, r#"{"args":{"id":7},"after":"v1.1.pg.16b3748"}"#);
    assert_eq!(
        serde_json::from_str::<Causal<serde_json::Value>>(&text)?,
        job
    );
    let plain: Causal<serde_json::Value> = serde_json::from_str(r#"{"args":{"id":7}}"#)?;
    assert_eq!(plain, Causal::new(serde_json::json!({ "id": 7 })));
    Ok(())
}

#[test]
fn multidb_errors_take_loco_s_question_mark_through_loco() {
    use multidb_loco::IntoLoco;
    fn build() -> loco_rs::Result<()> {
        let refused: Result<(), std::io::Error> = Err(std::io::Error::other("replica refused"));
        refused.loco()?;
        Ok(())
    }
    let Err(error) = build() else {
        panic!("the error goes through")
    };
    assert!(error.to_string().contains("replica refused"), "{error}");
}

#[test]
fn the_signing_key_stays_out_of_debug_output() -> Result<(), serde_json::Error> {
    let settings: multidb_loco::Settings = serde_json::from_value(serde_json::json!({
        "replicas": [], "pinning": { "signing_key": "0123456789abcdef0123456789abcdef-secret" }
    }))?;
    assert!(!format!("{settings:?}").contains("secret"));
    Ok(())
}
