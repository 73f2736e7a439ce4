//! `offpin serve`: the hosted access-code API for offline codes, over the
//! same ledger as the other commands (an SQLite file, or PostgreSQL for a
//! fleet of servers), and `offpin api-key`, which manages its keys.
//!
//! Handlers parse and answer ([`handlers`]); the ledger decides
//! (`offpin_ledger::ledger`, its `hosted` rules, which say whose each
//! refusal is); the core computes. Only this edge knows HTTP statuses
//! ([`fault`], [`error`]).
//! Ledger calls are synchronous and run on tokio's blocking pool, each
//! with a connection from an r2d2 pool (`crate::store`).

pub mod auth;
pub mod error;
pub mod fault;
pub mod handlers;
pub mod idempotency;
pub mod listen;
pub mod openapi;
pub mod pages;
pub mod ready;
pub mod routes;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::{StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state, map_response};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http_body_util::BodyExt;
use offpin::MasterKey;
use offpin_ledger::ledger::sqlite::writer::GroupCommit;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;

use self::error::ApiError;
use self::handlers::AppState;
use crate::store::{Location, Opener};

/// Arguments of `offpin serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Ledger connections in the pool (the most ledger calls at once).
    #[arg(long, default_value_t = 8)]
    pub pool_size: u32,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = 65_536)]
    pub max_body_bytes: usize,
    /// Seconds a request may take before it is answered 408.
    #[arg(long, default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Requests per second per API key (0: no limit).
    #[arg(long, default_value_t = 100)]
    pub rate_limit: u32,
    /// Requests an API key may send at once above its rate.
    #[arg(long, default_value_t = 200)]
    pub rate_burst: u32,
    /// Seconds a client has to send a request's headers, from the moment
    /// its connection waits for one: also the longest a kept-alive
    /// connection may stay idle.
    #[arg(long, default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Seconds a stop (SIGTERM, SIGINT) waits for requests in flight and
    /// open connections before it drops them and exits.
    #[arg(long, default_value_t = 10)]
    pub shutdown_grace_secs: u64,
    /// Failed authentications a second a client address may make (0: no
    /// limit); beyond its burst, requests from it without a key this
    /// server recently verified are answered 429 before any lookup.
    #[arg(long, default_value_t = 2)]
    pub auth_failure_rate: u32,
    /// Failed authentications a client address may make at once.
    #[arg(long, default_value_t = 20)]
    pub auth_failure_burst: u32,
    /// Seconds a server trusts a key it read from the ledger: a revocation
    /// reaches every server within this time (0: read the ledger on every
    /// request).
    #[arg(long, default_value_t = 2)]
    pub key_cache_secs: u64,
    /// Days `/access_codes/list` keeps listing a code after it stopped
    /// opening (its window and the lock's clock grace ended, deleted or
    /// not); `get` reads it by id for ever. 0: drop it as soon as it is
    /// dead. Ongoing codes never die on a date and stay listed.
    #[arg(long, default_value_t = DEFAULT_LIST_RETENTION_DAYS)]
    pub list_retention_days: u32,
    /// Most writes an SQLite ledger commits at once: concurrent creates,
    /// deletes and updates share a commit (1: one per transaction).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_batch: u32,
}

/// `--list-retention-days` when not given: a month, long enough to
/// answer a guest's "my code did not work" from the list.
pub const DEFAULT_LIST_RETENTION_DAYS: u32 = 30;

/// Turns the bodiless errors of the layers (unknown route, method, body
/// limit, timeout) into the API's JSON error.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (kind, message) = match status {
        StatusCode::NOT_FOUND => ("endpoint_not_found", "no such endpoint"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "method not allowed"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large"),
        // The ledger call goes on: a create may still be stored.
        StatusCode::REQUEST_TIMEOUT => (
            "request_timeout",
            "the request took too long, and a change it asked for may still be made: send it again (a create with the same Idempotency-Key, which returns its code if it was stored)",
        ),
        _ => ("http_error", status.canonical_reason().unwrap_or("error")),
    };
    ApiError::new(status, kind, message).into_response()
}

/// Most bytes of an over-size body the server reads (and discards) before
/// it answers 413, so that a client still writing it sees the answer
/// rather than a reset connection.
pub const DRAIN_BYTES: usize = 1024 * 1024;

/// Reads the whole request body, up to `--max-body-bytes`, before
/// anything answers the request. A rejection answered before the body
/// was read (a bad key, an unknown route) would leave the body on the
/// connection: the server then closes a keep-alive connection the client
/// goes on to reuse, and its next request fails with `Unexpected EOF`
/// (issue 20). A body over the limit is read on, and discarded, up to
/// [`DRAIN_BYTES`], then answered 413 with `Connection: close`: a client
/// writing it then reads the 413 instead of a broken pipe. A body that
/// declares more than [`DRAIN_BYTES`] is answered at once, unread.
async fn read_body_first(State(limit): State<usize>, req: Request, next: Next) -> Response {
    let (parts, mut body) = req.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > DRAIN_BYTES) {
        return too_large(limit);
    }
    let mut bytes = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return too_large(limit);
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen > DRAIN_BYTES {
            return too_large(limit);
        }
        if seen <= limit {
            bytes.extend_from_slice(&data);
        }
    }
    if seen > limit {
        return too_large(limit);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The 413 of a body over `limit` bytes, closing the connection.
fn too_large(limit: usize) -> Response {
    let mut response = ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the request body is larger than {limit} bytes"),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Answers a URI over [`listen::MAX_URI_BYTES`] with 414 and headers
/// over [`listen::MAX_HEADER_BYTES`] with 431, in the API's JSON error
/// shape, before anything else reads the request.
async fn bounded_head(req: Request, next: Next) -> Response {
    let uri = req.uri().to_string().len();
    if uri > listen::MAX_URI_BYTES {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!(
                "the request URI has {uri} bytes, more than {}",
                listen::MAX_URI_BYTES
            ),
        )
        .into_response();
    }
    let headers: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if headers > listen::MAX_HEADER_BYTES {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "request_header_fields_too_large",
            format!(
                "the request headers have {headers} bytes, more than {}",
                listen::MAX_HEADER_BYTES
            ),
        )
        .into_response();
    }
    next.run(req).await
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "endpoint_not_found",
        "no such endpoint",
    )
}

/// The service's routes and layers.
pub fn router(state: AppState, guard: auth::Guard, timeout: Duration) -> Router {
    let body_limit = state.body_limit;
    let (keyed, mut description) = routes::keyed();
    let (open, open_description) = routes::open();
    description.merge(open_description);
    let description = Arc::new(description);
    let api = keyed
        .route(
            "/openapi.json",
            get(move || async move { axum::Json(description.as_ref().clone()) }),
        )
        .route_layer(from_fn_with_state(guard, auth::authenticate));
    open.merge(api)
        .fallback(not_found)
        .with_state(state)
        .layer(from_fn_with_state(body_limit, read_body_first))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(map_response(json_errors))
        .layer(from_fn(bounded_head))
        .layer(
            // The log names the method, the path (never the query, which
            // may hold a PIN), the key's name (never the key), the status
            // and the latency.
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    tracing::info_span!(
                        "request",
                        method = %req.method(),
                        path = %req.uri().path(),
                        key = tracing::field::Empty,
                    )
                })
                .on_request(())
                .on_response(|res: &Response, latency: Duration, _: &Span| {
                    tracing::info!(
                        status = res.status().as_u16(),
                        latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
                        "answered"
                    );
                })
                .on_failure(()),
        )
}

/// The writer of an SQLite ledger ([`GroupCommit`]: WAL, group commit);
/// `None` on PostgreSQL.
fn start_writer(location: &Location, max_batch: u32) -> Result<Option<Arc<GroupCommit>>, String> {
    let Location::Sqlite(path) = location else {
        return Ok(None);
    };
    let max_batch = usize::try_from(max_batch).unwrap_or(usize::MAX);
    let writer = GroupCommit::start(path, max_batch).map_err(|e| e.to_string())?;
    tracing::info!(
        journal_mode = writer.journal_mode(),
        max_batch,
        "ledger writer started"
    );
    Ok(Some(Arc::new(writer)))
}

/// Stops the writer once the service's connections are closed: the
/// ledger is checkpointed and one file again.
fn stop_writer(writer: &GroupCommit) {
    match writer.stop() {
        Ok(s) => tracing::info!(
            writes = s.writes,
            commits = s.commits,
            largest_batch = s.largest_batch,
            "ledger writer stopped; the ledger is one file"
        ),
        Err(e) => tracing::warn!("ledger writer stopped: {e}"),
    }
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing the requests in flight");
}

/// Runs the service until SIGTERM or SIGINT, then lets the requests in
/// flight finish, for at most `--shutdown-grace-secs` ([`listen`]).
///
/// # Errors
///
/// A message when the ledger cannot be opened or the address bound.
pub fn run(location: &Location, master: MasterKey, args: &ServeArgs) -> Result<(), String> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OFFPIN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
    // Open (and migrate) once before serving, so a bad ledger fails now.
    drop(location.open_write().map_err(|e| e.to_string())?);
    let writer = start_writer(location, args.max_batch)?;
    let pool = r2d2::Pool::builder()
        .max_size(args.pool_size.max(1))
        .min_idle(Some(1))
        // A connection the database dropped while idle (a restart) is
        // replaced before a request gets it (`Store::validate`).
        .test_on_check_out(true)
        // A request waits at most this for a connection, well within its
        // own timeout: then 503, before the layer's 408 could answer a
        // request whose write is still to come.
        .connection_timeout(Duration::from_secs(
            (args.request_timeout_secs / 4).clamp(1, 5),
        ))
        .build(Opener(location.clone()))
        .map_err(|e| format!("ledger {}: {e}", location.describe()))?;
    // The last handle of the pool is dropped after the runtime: a
    // PostgreSQL connection closes with a blocking call, which must not
    // run on an async worker.
    let keep = pool.clone();
    let state = AppState {
        pool,
        master: Arc::new(master),
        body_limit: args.max_body_bytes,
        writer: writer.clone(),
        list_retention: Some(chrono::TimeDelta::days(i64::from(args.list_retention_days))),
    };
    let guard = auth::Guard {
        app: state.clone(),
        limiter: auth::limiter(args.rate_limit, args.rate_burst),
        failures: auth::failure_limiter(args.auth_failure_rate, args.auth_failure_burst),
        cache: Arc::new(auth::KeyCache::new(Duration::from_secs(
            args.key_cache_secs,
        ))),
    };
    let app = router(
        state,
        guard,
        Duration::from_secs(args.request_timeout_secs.max(1)),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let served = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
        println!(
            "offpin serve: listening on http://{addr} (ledger {})",
            location.describe()
        );
        let limits = listen::Limits {
            header_timeout: Duration::from_secs(args.header_timeout_secs.max(1)),
            shutdown_grace: Duration::from_secs(args.shutdown_grace_secs),
        };
        listen::serve(listener, app, limits, shutdown_signal()).await
    });
    // Ledger calls still running on the blocking pool get the grace too.
    runtime.shutdown_timeout(Duration::from_secs(args.shutdown_grace_secs));
    drop(keep);
    if let Some(writer) = writer {
        stop_writer(&writer);
    }
    served?;
    tracing::info!("stopped");
    Ok(())
}
