//! The accept loop of `offpin serve`: HTTP/1.1 connections with a header
//! timeout that also closes idle kept-alive connections, the client's
//! address on every request (for the failed-authentication throttle), and
//! a stop that is graceful but bounded.
//!
//! - **Header timeout** (`--header-timeout-secs`, 10 s): a client has that
//!   long to send a request's start line and headers, from the moment the
//!   connection waits for one: a slow-header client (one header line every
//!   few seconds) and a kept-alive connection that sends nothing are both
//!   closed when it passes. The body and the answer are bounded by the
//!   request timeout (`--request-timeout-secs`).
//! - **Header size**: hyper refuses a head over [`HYPER_MAX_HEAD_BYTES`]
//!   itself (a bare 431); below it, the router answers a URI over
//!   [`MAX_URI_BYTES`] with 414 and headers over [`MAX_HEADER_BYTES`]
//!   with 431, both in the API's JSON error shape.
//! - **Stop**: on SIGTERM or SIGINT the listener closes, idle connections
//!   close, requests in flight finish; after `--shutdown-grace-secs`
//!   (10 s) whatever is left is dropped and the process exits.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::Service;

/// Longest request URI the router answers (414 beyond).
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Most bytes of request headers the router answers (431 beyond): each
/// header's name and value, plus 4 for `": "` and the line end.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// The head (start line and headers) hyper reads before it refuses the
/// connection itself, without a JSON body.
pub const HYPER_MAX_HEAD_BYTES: usize = 64 * 1024;

/// How long clients may take, and how long a stop may wait.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time to send a request's head, and the longest idle keep-alive.
    pub header_timeout: Duration,
    /// Longest wait, after a stop signal, for connections to finish.
    pub shutdown_grace: Duration,
}

/// Serves `app` on `listener` until `stop` completes, then stops as the
/// module documentation says.
///
/// # Errors
///
/// Never for a client's fault (a failed connection is logged and
/// dropped); the `Result` is for the caller's symmetry with bind errors.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    stop: impl Future<Output = ()>,
) -> Result<(), String> {
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_header_size(HYPER_MAX_HEAD_BYTES);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    // The router, with the client's address in every
                    // request's extensions (`ConnectInfo`).
                    let app = app.clone();
                    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                        req.extensions_mut().insert(ConnectInfo(peer));
                        let mut app = app.clone();
                        async move { app.call(req).await }
                    });
                    let conn = http.serve_connection(TokioIo::new(stream), service);
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            tracing::debug!(%peer, error = %e, "connection closed");
                        }
                    });
                }
                // Out of file descriptors, or a connection reset before
                // it was accepted: wait a little rather than spin.
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = &mut stop => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!(
                grace_secs = limits.shutdown_grace.as_secs(),
                "connections still open after the grace period: dropped"
            );
        }
    }
    Ok(())
}
