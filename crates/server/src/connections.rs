//! Accepting and serving connections, with the limits that keep one client from taking the
//! node down: a header-read timeout (slowloris), an idle timeout, a global and a
//! per-address connection limit, and an accept loop that backs off instead of spinning
//! when the process runs out of file descriptors.
//!
//! Each accepted stream is served by hyper's HTTP/1 and HTTP/2 connection builder, over
//! TLS when the server has a certificate ([`serve_tls`]): the handshake must end within
//! the header timeout, so a client that stalls it cannot hold a place. The client's
//! address is given to handlers as [`ConnectInfo`] (the sign-in throttling keys on it), and
//! the client certificate the handshake verified, if any, as a
//! [`ClientCertificate`](crate::client_auth::ClientCertificate).

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch, Notify};
use tower::ServiceExt;

use crate::client_auth::ClientCertificate;

/// Limits on connections; [`Default`] suits a small node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Time a client has to send a request's headers, counted from the connection's start
    /// or the end of the previous response (so it also closes idle keep-alive connections).
    pub header_timeout: Duration,
    /// A connection with no bytes in either direction for this long is closed.
    pub idle_timeout: Duration,
    /// Connections open at once; beyond it a new one is closed at once, unless the
    /// connection quiet the longest (at least a second) can be closed in its favour.
    pub max_connections: usize,
    /// Connections open at once from one address (an IPv6 /64 counts as one address).
    pub max_per_address: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 512,
            max_per_address: 64,
        }
    }
}

/// The address a client is counted as: IPv4 (mapped IPv6 included) as is, IPv6 by its
/// /64, since one host commonly holds a whole /64.
pub fn source_address(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(prefix))
            }
        },
    }
}

/// A connection quiet for at least this long may be closed to admit a new one when the
/// node is at its global limit, so that idle connections cannot keep clients out.
const SHEDDABLE_AFTER: Duration = Duration::from_secs(1);

/// Open connections, globally and per address.
struct Gate {
    limits: ConnectionLimits,
    /// Time origin of every connection's last-activity clock.
    base: Instant,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    per_address: HashMap<IpAddr, usize>,
    connections: HashMap<u64, Activity>,
    next_id: u64,
}

/// What the gate knows of one connection: when bytes last moved, and how to close it.
#[derive(Clone)]
struct Activity {
    last_ms: Arc<AtomicU64>,
    shed: Arc<Notify>,
}

/// One admitted connection; gives its places back when dropped.
struct Admission {
    gate: Arc<Gate>,
    id: u64,
    address: IpAddr,
    activity: Activity,
}

impl Gate {
    fn now_ms(&self) -> u64 {
        self.base.elapsed().as_millis() as u64
    }

    /// Admits a connection from `peer`, or `None` when its address is at its limit, or
    /// the node is at its limit and no connection has been quiet long enough to be closed
    /// in its favour (the quietest one is).
    fn admit(self: &Arc<Self>, peer: IpAddr) -> Option<Admission> {
        let address = source_address(peer);
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.per_address.get(&address).copied().unwrap_or(0) >= self.limits.max_per_address {
            return None;
        }
        if open.connections.len() >= self.limits.max_connections {
            let quiet_since = self
                .now_ms()
                .saturating_sub(SHEDDABLE_AFTER.as_millis() as u64);
            let (&id, quietest) = open
                .connections
                .iter()
                .min_by_key(|(_, a)| a.last_ms.load(Ordering::Relaxed))?;
            if quietest.last_ms.load(Ordering::Relaxed) > quiet_since {
                return None;
            }
            quietest.shed.notify_one();
            open.connections.remove(&id);
        }
        let id = open.next_id;
        open.next_id += 1;
        let activity = Activity {
            last_ms: Arc::new(AtomicU64::new(self.now_ms())),
            shed: Arc::new(Notify::new()),
        };
        open.connections.insert(id, activity.clone());
        *open.per_address.entry(address).or_insert(0) += 1;
        Some(Admission {
            gate: self.clone(),
            id,
            address,
            activity,
        })
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut open = self.gate.open.lock().unwrap_or_else(|e| e.into_inner());
        open.connections.remove(&self.id);
        if let Some(count) = open.per_address.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                open.per_address.remove(&self.address);
            }
        }
    }
}

/// A stream that notes when bytes last moved, for the idle timeout.
struct Watched<S> {
    inner: S,
    base: Instant,
    last_ms: Arc<AtomicU64>,
}

impl<S> Watched<S> {
    fn touch(&self) {
        let ms = self.base.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.touch();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Errors of one connection attempt (the listener itself is fine): accept the next.
fn only_this_connection(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted | WouldBlock
    )
}

/// First and longest pause of the accept loop after a resource error (EMFILE, ENFILE,
/// ENOBUFS, ENOMEM): accepting again at once would spin on the same error.
const BACKOFF_FIRST: Duration = Duration::from_millis(10);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Serves `app` on `listener` within `limits` until `shutdown` completes; then stops
/// accepting, lets every connection finish its request in flight, and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_tls(listener, app, limits, None, shutdown).await
}

/// [`serve`], over TLS with `tls` when given (and only over TLS then).
pub async fn serve_tls(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let gate = Arc::new(Gate {
        limits,
        base: Instant::now(),
        open: Mutex::default(),
    });
    // Every connection holds a sender; when all are gone, every connection has ended.
    let (alive, mut all_ended) = mpsc::channel::<()>(1);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(None);
    let (stop, stopping) = watch::channel(false);
    let mut backoff = BACKOFF_FIRST;
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => {
                backoff = BACKOFF_FIRST;
                accepted
            }
            Err(e) if only_this_connection(&e) => continue,
            Err(e) => {
                tracing::warn!(error = %e, pause_ms = backoff.as_millis() as u64, "cannot accept connections; pausing");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        let Some(admission) = gate.admit(peer.ip()) else {
            tracing::debug!(peer = %peer.ip(), "connection refused: connection limit reached");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (app, builder, stopping, alive) = (
            app.clone(),
            builder.clone(),
            stopping.clone(),
            alive.clone(),
        );
        match &acceptor {
            None => {
                let peer = Peer {
                    address: peer,
                    client: None,
                };
                tokio::spawn(connection(
                    stream, peer, admission, app, builder, stopping, alive,
                ));
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let handshake = tokio::time::timeout(
                        admission.gate.limits.header_timeout,
                        acceptor.accept(stream),
                    );
                    match handshake.await {
                        Ok(Ok(stream)) => {
                            let client = stream
                                .get_ref()
                                .1
                                .peer_certificates()
                                .and_then(|chain| chain.first())
                                .map(|cert| ClientCertificate(Arc::new(cert.clone().into_owned())));
                            let peer = Peer {
                                address: peer,
                                client,
                            };
                            connection(stream, peer, admission, app, builder, stopping, alive).await
                        }
                        Ok(Err(e)) if refused_client_certificate(&e) => {
                            tracing::warn!(peer = %peer.ip(), error = %e, "TLS handshake failed: client certificate refused")
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(peer = %peer.ip(), error = %e, "TLS handshake failed")
                        }
                        Err(_) => {
                            tracing::debug!(peer = %peer.ip(), "TLS handshake timed out")
                        }
                    }
                });
            }
        }
    }
    drop(listener);
    let _ = stop.send(true);
    drop(alive);
    let _ = all_ended.recv().await;
    Ok(())
}

/// Who is at the other end of a connection: its address, and the client certificate its
/// TLS handshake verified.
struct Peer {
    address: SocketAddr,
    client: Option<ClientCertificate>,
}

/// Whether a handshake failed on the certificate the client presented (with mutual TLS: of
/// another CA, expired, …): worth telling the operator, unlike a scanner's garbage.
fn refused_client_certificate(e: &std::io::Error) -> bool {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .is_some_and(|e| matches!(e, rustls::Error::InvalidCertificate(_)))
}

/// Serves one connection until it ends, idles out, is shed or the server stops.
async fn connection<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    stream: S,
    Peer {
        address: peer,
        client,
    }: Peer,
    admission: Admission,
    app: Router,
    builder: auto::Builder<TokioExecutor>,
    mut stopping: watch::Receiver<bool>,
    _alive: mpsc::Sender<()>,
) {
    let gate = admission.gate.clone();
    let idle = gate.limits.idle_timeout;
    let Activity { last_ms, shed } = admission.activity.clone();
    let io = TokioIo::new(Watched {
        inner: stream,
        base: gate.base,
        last_ms: last_ms.clone(),
    });
    let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        if let Some(cert) = &client {
            request.extensions_mut().insert(cert.clone());
        }
        app.clone().oneshot(request.map(axum::body::Body::new))
    });
    let conn = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(conn);
    let mut draining = false;
    let quiet_until = || gate.base + Duration::from_millis(last_ms.load(Ordering::Relaxed)) + idle;
    loop {
        tokio::select! {
            _ = conn.as_mut() => break,
            () = tokio::time::sleep_until(quiet_until().into()) => {
                if quiet_until() <= Instant::now() {
                    tracing::debug!(peer = %peer.ip(), "idle connection closed");
                    break;
                }
            }
            () = shed.notified() => {
                tracing::debug!(peer = %peer.ip(), "quiet connection closed for a new one");
                break;
            }
            _ = stopping.changed(), if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
    drop(admission);
}
