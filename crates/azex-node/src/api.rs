//! The HTTP/WebSocket API (axum). Every error has one JSON shape,
//! `{"error": {"code": "…", "message": "…"}}`, with the stable codes listed in docs/node.md.
//! Bodies are read as bytes and parsed here (so a malformed body is a JSON error, not a
//! framework message); sizes are capped; requests are rate-limited per IP and transactions per
//! account; nothing a request carries can panic the node (the only engine call on request data,
//! `simulate`, runs under `catch_unwind`).

use crate::json::jv;
use crate::node::{CachedBlock, Shared};
use alloy_primitives::{Address, B256};
use axum::body::{Body, Bytes};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, Request, State as S};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use azex_client::{ApiError, BatchItem, ErrorBody, NonceInfo, SignedTx, Status, TxAck};
use azex_exchange::units::WAD;
use azex_exchange::{State, Tx};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The OpenAPI document (kept in the repository, served at `/v1/openapi.json`).
pub const OPENAPI: &str = include_str!("../openapi.json");

/// Limits on what a client may send.
#[derive(Debug, Clone)]
pub struct ApiLimits {
    /// Bytes of one request body (`/v1/tx`, `/v1/simulate`).
    pub max_body: usize,
    /// Bytes of a batch body (`/v1/txs`).
    pub max_batch_body: usize,
    /// Transactions in one batch.
    pub max_batch: usize,
    /// Requests per second per IP (token bucket; 0 = unlimited).
    pub ip_rps: f64,
    /// Burst of `ip_rps`: the bucket's size, requests (at least 1).
    pub ip_burst: f64,
    /// Transactions per second per account (token bucket; 0 = unlimited).
    pub account_tps: f64,
    /// Burst of `account_tps`: the bucket's size, transactions (at least 1).
    pub account_burst: f64,
    /// Open websocket connections.
    pub max_ws: u64,
    /// Longest wait a request may ask for (`wait=commit`, long polls).
    pub max_wait_ms: u64,
    /// Requests waiting for a commit at once.
    pub max_waiters: u64,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits {
            max_body: 64 << 10,
            max_batch_body: 16 << 20,
            max_batch: 10_000,
            ip_rps: 2_000.0,
            ip_burst: 4_000.0,
            account_tps: 500.0,
            account_burst: 1_000.0,
            max_ws: 1_024,
            max_wait_ms: 30_000,
            max_waiters: 10_000,
        }
    }
}

impl ApiLimits {
    /// No rate limits (benchmarks, tests of other things).
    pub fn unlimited() -> Self {
        ApiLimits {
            ip_rps: 0.0,
            account_tps: 0.0,
            ..Default::default()
        }
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets per IP and per account; the tables are bounded (cleared when they grow past
/// 100,000 keys: a flood of keys resets them rather than exhausting memory).
pub struct RateLimiter {
    ip: Mutex<HashMap<IpAddr, Bucket>>,
    acct: Mutex<HashMap<Address, Bucket>>,
    ip_rate: (f64, f64),
    acct_rate: (f64, f64),
}

const MAX_KEYS: usize = 100_000;

fn take<K: std::hash::Hash + Eq>(
    m: &Mutex<HashMap<K, Bucket>>,
    k: K,
    rate: (f64, f64),
    n: f64,
) -> bool {
    if rate.0 <= 0.0 {
        return true;
    }
    let Ok(mut m) = m.lock() else { return true };
    if m.len() > MAX_KEYS {
        m.clear();
    }
    let now = Instant::now();
    let b = m.entry(k).or_insert(Bucket {
        tokens: rate.1,
        at: now,
    });
    b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate.0).min(rate.1);
    b.at = now;
    if b.tokens >= n {
        b.tokens -= n;
        true
    } else {
        false
    }
}

impl RateLimiter {
    /// Empty buckets with the rates and bursts of `l`.
    pub fn new(l: &ApiLimits) -> Self {
        RateLimiter {
            ip: Mutex::new(HashMap::new()),
            acct: Mutex::new(HashMap::new()),
            ip_rate: (l.ip_rps, l.ip_burst.max(1.0)),
            acct_rate: (l.account_tps, l.account_burst.max(1.0)),
        }
    }
    /// Take one request of `ip`'s bucket: `false` if it is empty (rate limited).
    pub fn ip(&self, ip: IpAddr) -> bool {
        take(&self.ip, ip, self.ip_rate, 1.0)
    }
    /// Take one transaction of account `a`'s bucket: `false` if it is empty (rate limited).
    pub fn account(&self, a: Address) -> bool {
        take(&self.acct, a, self.acct_rate, 1.0)
    }
}

/// An API error.
#[derive(Debug)]
pub(crate) struct ApiErr(StatusCode, &'static str, String);

impl IntoResponse for ApiErr {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ApiError {
                code: self.1.into(),
                message: self.2,
            },
        };
        (self.0, axum::Json(body)).into_response()
    }
}

fn bad(code: &'static str, msg: impl Into<String>) -> ApiErr {
    ApiErr(StatusCode::BAD_REQUEST, code, msg.into())
}

fn not_found(what: impl Into<String>) -> ApiErr {
    ApiErr(StatusCode::NOT_FOUND, "not_found", what.into())
}

fn internal(msg: impl Into<String>) -> ApiErr {
    ApiErr(StatusCode::INTERNAL_SERVER_ERROR, "internal", msg.into())
}

type R = Result<Response, ApiErr>;

fn ok(v: impl serde::Serialize) -> R {
    Ok(axum::Json(v).into_response())
}

fn raw_json(bytes: Arc<[u8]>) -> Response {
    let mut r = Response::new(Body::from(Bytes::from(bytes.to_vec())));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn parse<T: serde::de::DeserializeOwned>(b: &[u8], code: &'static str) -> Result<T, ApiErr> {
    serde_json::from_slice(b).map_err(|e| bad(code, e.to_string()))
}

fn parse_addr(s: &str) -> Result<Address, ApiErr> {
    s.parse::<Address>()
        .map_err(|_| bad("invalid_address", format!("not an address: {:.80}", s)))
}

fn parse_u64(s: &str, what: &str) -> Result<u64, ApiErr> {
    s.parse::<u64>().map_err(|_| {
        bad(
            "invalid_parameter",
            format!("{what}: not an unsigned integer: {:.40}", s),
        )
    })
}

fn q_u64(q: &HashMap<String, String>, k: &str, default: u64) -> Result<u64, ApiErr> {
    match q.get(k) {
        None => Ok(default),
        Some(s) => parse_u64(s, k),
    }
}

fn state(sh: &Shared) -> Result<std::sync::RwLockReadGuard<'_, State>, ApiErr> {
    sh.state.read().map_err(|_| internal("state lock poisoned"))
}

/// The API's routes and their handlers on the node's shared state.
pub(crate) fn router(sh: Arc<Shared>) -> Router {
    let small = DefaultBodyLimit::max(sh.api.max_body);
    let big = DefaultBodyLimit::max(sh.api.max_batch_body);
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/status", get(status))
        .route("/v1/genesis", get(genesis))
        .route("/v1/markets", get(markets))
        .route("/v1/markets/{id}", get(market))
        .route("/v1/markets/{id}/events", get(market_events))
        .route("/v1/vault", get(vault))
        .route("/v1/accounts/{addr}", get(account))
        .route("/v1/accounts/{addr}/nonce", get(nonce))
        .route("/v1/accounts/{addr}/events", get(account_events))
        .route("/v1/accounts/{addr}/txs", get(account_txs))
        .route("/v1/positions/{id}", get(position))
        .route("/v1/blocks", get(blocks))
        .route("/v1/blocks/latest", get(block_latest))
        .route("/v1/blocks/{height}", get(block))
        .route("/v1/tx/{hash}", get(tx_get))
        .route("/v1/tx", post(tx_post).layer(small))
        .route("/v1/simulate", post(simulate).layer(small))
        .route("/v1/txs", post(txs_post).layer(big))
        .route("/v1/ws", get(ws))
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(sh.clone(), guard))
        .with_state(sh)
}

async fn fallback() -> ApiErr {
    not_found("no such route")
}

async fn method_not_allowed() -> ApiErr {
    ApiErr(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this route".into(),
    )
}

/// Rate limit per IP, count requests, and give framework errors (413, 400 from an extractor)
/// the API's error shape.
async fn guard(S(sh): S<Arc<Shared>>, req: Request, next: Next) -> Response {
    sh.metrics.http_requests.fetch_add(1, Ordering::Relaxed);
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(ip) = ip {
        if !sh.rate.ip(ip) {
            sh.metrics.rate_limited.fetch_add(1, Ordering::Relaxed);
            return ApiErr(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many requests from this address".into(),
            )
            .into_response();
        }
    }
    let resp = next.run(req).await;
    let st = resp.status();
    if st.is_client_error() || st.is_server_error() {
        sh.metrics.http_errors.fetch_add(1, Ordering::Relaxed);
        let is_json = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.as_bytes().starts_with(b"application/json"))
            .unwrap_or(false);
        if !is_json {
            let code = match st {
                StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
                StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
                StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
                StatusCode::NOT_FOUND => "not_found",
                s if s.is_server_error() => "internal",
                _ => "bad_request",
            };
            let (parts, body) = resp.into_parts();
            let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
            let mut r =
                ApiErr(st, code, String::from_utf8_lossy(&text).into_owned()).into_response();
            for (k, v) in parts.headers.iter() {
                if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
                    r.headers_mut().insert(k.clone(), v.clone());
                }
            }
            return r;
        }
    }
    resp
}

async fn health(S(sh): S<Arc<Shared>>) -> R {
    let fault = sh.fault.lock().ok().and_then(|f| f.clone());
    match fault {
        None => ok(json!({"status": "ok", "height": sh.head().0})),
        Some(f) => Err(ApiErr(StatusCode::SERVICE_UNAVAILABLE, "node_fault", f)),
    }
}

async fn metrics(S(sh): S<Arc<Shared>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        sh.metrics.render(),
    )
        .into_response()
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn status(S(sh): S<Arc<Shared>>) -> R {
    let (height, state_hash) = sh.head();
    let mempool = sh.mempool.lock().map(|m| m.len()).unwrap_or(0);
    ok(Status {
        chain_id: sh.chain_id,
        height,
        state_hash,
        genesis_hash: sh.genesis_hash,
        mempool,
        block_time_ms: sh.block_time_ms,
    })
}

async fn genesis(S(sh): S<Arc<Shared>>) -> R {
    ok(&sh.genesis)
}

fn side_json(s: &azex_exchange::state::Side) -> Value {
    json!({
        "open_interest": s.eff_qty().map(|q| q.to_string()).unwrap_or_default(),
        "margin": s.margin.to_string(),
        "funding_index": s.funding_index.to_string(),
        "adl_scale": s.scale.to_string(),
    })
}

fn market_json(st: &State, id: u32) -> Option<Value> {
    let m = st.market(id)?;
    let p = st.market_params.get(id as usize);
    let spot = m.prices.spot;
    let buy = m.execution_price(true);
    let sell = m.execution_price(false);
    Some(json!({
        "id": m.id,
        "base_token": m.base_token,
        "base_decimals": m.base_decimals,
        "quote_is_token0": m.quote_is_token0,
        "status": jv(&m.status),
        "prices": jv(&m.prices),
        "execution_price_buy": buy.to_string(),
        "execution_price_sell": sell.to_string(),
        "net_open_interest": m.net_qty().map(|q| q.to_string()).unwrap_or_default(),
        "long": side_json(&m.long),
        "short": side_json(&m.short),
        "funding_rate_per_day_wad": m.funding_rate_per_day_wad.to_string(),
        "last_funding_time": m.last_funding_time,
        "impact_pool": m.impact_pool.to_string(),
        "volume": m.volume.to_string(),
        "risk": jv(&m.risk),
        "requirement": {"azex": m.risk.required.to_string(), "classic": m.risk.classic_required.to_string()},
        "spot_price": spot.to_string(),
        "params": jv(&p),
    }))
}

async fn markets(S(sh): S<Arc<Shared>>) -> R {
    let st = state(&sh)?;
    // Market ids are u32: there are never more than 2^32 markets.
    let v: Vec<Value> = (0..=u32::MAX)
        .take(st.markets.len())
        .filter_map(|i| market_json(&st, i))
        .collect();
    ok(json!({"height": st.block.height, "markets": v}))
}

async fn market(S(sh): S<Arc<Shared>>, Path(id): Path<String>) -> R {
    let id = u32::try_from(parse_u64(&id, "market")?)
        .map_err(|_| bad("invalid_parameter", "market id too large"))?;
    let st = state(&sh)?;
    let m = market_json(&st, id).ok_or_else(|| not_found(format!("market {id}")))?;
    ok(json!({"height": st.block.height, "market": m}))
}

async fn vault(S(sh): S<Arc<Shared>>) -> R {
    let st = state(&sh)?;
    let risk = azex_exchange::risk::vault_risk(
        &st.vault,
        st.markets.iter().zip(st.market_params.iter()),
        st.params.max_vault_utilisation_wad,
    )
    .map_err(|e| internal(e.to_string()))?;
    let share_price = if st.vault.shares == 0 || risk.nav <= 0 {
        0u128
    } else {
        risk.nav.unsigned_abs().saturating_mul(WAD) / st.vault.shares // nav > 0 here
    };
    let hwm = st.vault.high_water_share_price;
    let drawdown = if hwm == 0 || share_price >= hwm {
        0
    } else {
        (hwm - share_price).saturating_mul(WAD) / hwm
    };
    ok(json!({
        "height": st.block.height,
        "vault": jv(&st.vault),
        "nav": risk.nav.to_string(),
        "share_price_wad": share_price.to_string(),
        "drawdown_wad": drawdown.to_string(),
        "max_drawdown_wad": st.params.max_drawdown_wad.to_string(),
        "free_liquidity": risk.free_liquidity.to_string(),
        "required": risk.required.to_string(),
        "classic_required": risk.classic_required.to_string(),
        "risk": jv(&risk),
        "ledger": jv(&st.ledger),
        "funds": jv(&st.funds),
    }))
}

/// Equity, maintenance margin and liquidation price of a position (the engine's own `health`).
fn position_json(st: &State, p: &azex_exchange::state::Position) -> Value {
    let mut v = jv(p);
    let (Some(m), Some(mp)) = (st.market(p.market), st.market_params.get(p.market as usize)) else {
        return v;
    };
    let side = m.side(p.is_long());
    let h = |price: u128| -> Option<(i128, u128)> {
        let (q, c) = azex_exchange::book::effective(p, side).ok()?;
        let owed = azex_exchange::math::funding::owed(p.qty, side.funding_index, p.funding_entry)
            .ok()?
            .checked_add(i128::try_from(p.funding_debt).ok()?)?;
        let adl = azex_exchange::book::adl_owed_to(p, side).ok()?;
        azex_exchange::handlers::liquidation::health(
            mp,
            q,
            c,
            p.margin,
            owed.checked_sub(adl)?,
            price,
        )
        .ok()
    };
    let price = m.liquidation_price(p.is_long());
    if let Some((eq, mm)) = h(price) {
        v["equity"] = json!(eq.to_string());
        v["maintenance_margin"] = json!(mm.to_string());
        v["liquidatable"] = json!(eq < 0 || eq.unsigned_abs() < mm);
        v["mark_price"] = json!(price.to_string());
        // Liquidation price: where equity meets maintenance margin (bisection on `health`).
        let liq = |x: u128| {
            h(x).map(|(e, m)| e < 0 || e.unsigned_abs() < m)
                .unwrap_or(true)
        };
        let (mut lo, mut hi) = if p.is_long() {
            (0u128, price)
        } else {
            (price, price.saturating_mul(1_000).max(1))
        };
        if p.is_long() == liq(hi) && !p.is_long() {
            // short liquidatable even far above: leave unknown
        }
        for _ in 0..128 {
            if hi <= lo + 1 {
                break;
            }
            let mid = lo + (hi - lo) / 2;
            let l = liq(mid);
            // long: liquidatable below the price; short: above.
            if p.is_long() == l {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        v["liquidation_price"] = json!(if p.is_long() { lo } else { hi }.to_string());
    }
    v
}

async fn account(S(sh): S<Arc<Shared>>, Path(a): Path<String>) -> R {
    let a = parse_addr(&a)?;
    let st = state(&sh)?;
    let wallets: serde_json::Map<String, Value> = st
        .wallets
        .range((a, Address::ZERO)..=(a, Address::repeat_byte(0xff)))
        .map(|((_, t), v)| (t.to_string(), json!(v.to_string())))
        .collect();
    // A scan of the book (no owner index in the engine): bounded to 1,000 positions.
    let positions: Vec<Value> = st
        .positions
        .values()
        .filter(|p| p.owner == a)
        .take(1_000)
        .map(|p| position_json(&st, p))
        .collect();
    let (committed, next) = sh.mempool.lock().map(|m| m.nonces(a)).unwrap_or((0, 0));
    ok(json!({
        "height": st.block.height,
        "address": a,
        "wallets": wallets,
        "lp": jv(&st.lps.get(&a)),
        "positions": positions,
        "nonce": {"committed": committed, "next": next},
    }))
}

async fn nonce(S(sh): S<Arc<Shared>>, Path(a): Path<String>) -> R {
    let a = parse_addr(&a)?;
    let (committed, next) = sh.mempool.lock().map(|m| m.nonces(a)).unwrap_or((0, 0));
    ok(NonceInfo { committed, next })
}

async fn position(S(sh): S<Arc<Shared>>, Path(id): Path<String>) -> R {
    let id = parse_u64(&id, "position")?;
    let st = state(&sh)?;
    let p = st
        .position(id)
        .ok_or_else(|| not_found(format!("position {id} (closed or never opened)")))?;
    ok(json!({"height": st.block.height, "position": position_json(&st, p)}))
}

fn cursor(q: &HashMap<String, String>) -> Result<((u64, u32), usize), ApiErr> {
    let limit = q_u64(q, "limit", 100)?.clamp(1, 500) as usize;
    let before = match q.get("before") {
        None => (u64::MAX, u32::MAX),
        Some(s) => {
            let (h, i) = s
                .split_once(':')
                .ok_or_else(|| bad("invalid_parameter", "before: expected HEIGHT:SEQ"))?;
            (
                parse_u64(h, "before")?,
                u32::try_from(parse_u64(i, "before")?)
                    .map_err(|_| bad("invalid_parameter", "before: seq too large"))?,
            )
        }
    };
    Ok((before, limit))
}

fn events_at(sh: &Shared, keys: &[(u64, u32)]) -> Vec<Value> {
    let mut out = Vec::with_capacity(keys.len());
    let mut cur: Option<Arc<CachedBlock>> = None;
    for &(h, seq) in keys {
        if cur.as_ref().map(|c| c.block.height) != Some(h) {
            cur = sh.block(h);
        }
        if let Some(c) = &cur {
            if let Some(e) = crate::index::block_events(&c.block).nth(seq as usize) {
                out.push(
                    json!({"height": h, "seq": seq, "cursor": format!("{h}:{seq}"), "event": e}),
                );
            }
        }
    }
    out
}

fn page(items: Vec<Value>, keys: &[(u64, u32)], limit: usize) -> Value {
    let next = if keys.len() == limit {
        keys.last().map(|(h, s)| format!("{h}:{s}"))
    } else {
        None
    };
    json!({"items": items, "next": next})
}

async fn account_events(
    S(sh): S<Arc<Shared>>,
    Path(a): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    let a = parse_addr(&a)?;
    let (before, limit) = cursor(&q)?;
    let keys = sh
        .index
        .account_events(a, before, limit)
        .map_err(|e| internal(e.to_string()))?;
    ok(page(events_at(&sh, &keys), &keys, limit))
}

async fn account_txs(
    S(sh): S<Arc<Shared>>,
    Path(a): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    let a = parse_addr(&a)?;
    let (before, limit) = cursor(&q)?;
    let keys = sh
        .index
        .account_txs(a, before, limit)
        .map_err(|e| internal(e.to_string()))?;
    let items = keys
        .iter()
        .filter_map(|&(h, i)| receipt(&sh, h, i))
        .collect();
    ok(page(items, &keys, limit))
}

async fn market_events(
    S(sh): S<Arc<Shared>>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    let id = u32::try_from(parse_u64(&id, "market")?)
        .map_err(|_| bad("invalid_parameter", "market id too large"))?;
    let (before, limit) = cursor(&q)?;
    let keys = sh
        .index
        .market_events(id, before, limit)
        .map_err(|e| internal(e.to_string()))?;
    ok(page(events_at(&sh, &keys), &keys, limit))
}

async fn wait_head(sh: &Shared, h: u64, wait_ms: u64) {
    if sh.head().0 >= h || wait_ms == 0 {
        return;
    }
    let mut rx = sh.head.subscribe();
    let _ = tokio::time::timeout(
        Duration::from_millis(wait_ms),
        rx.wait_for(|(hh, _)| *hh >= h),
    )
    .await;
}

async fn blocks(S(sh): S<Arc<Shared>>, Query(q): Query<HashMap<String, String>>) -> R {
    let head = sh.head().0;
    let from = q_u64(&q, "from", head.saturating_sub(9).max(1))?.max(1);
    let limit = q_u64(&q, "limit", 10)?.clamp(1, 100);
    let wait_ms = q_u64(&q, "wait_ms", 0)?.min(sh.api.max_wait_ms);
    let full = q
        .get("full")
        .map(|s| s == "true" || s == "1")
        .unwrap_or(false);
    wait_head(&sh, from, wait_ms).await;
    let head = sh.head().0;
    let to = head.min(from.saturating_add(limit - 1));
    let mut body = Vec::with_capacity(1024);
    body.push(b'[');
    let mut first = true;
    let mut h = from;
    // At most 32 MiB per answer (always at least one block).
    while h <= to && (first || body.len() < 32 << 20) {
        let Some(b) = sh.block(h) else { break };
        if !first {
            body.push(b',');
        }
        first = false;
        if full {
            body.extend_from_slice(&b.json);
        } else {
            let s = json!({
                "height": b.block.height,
                "timestamp": b.block.timestamp,
                "state_hash": b.block.state_hash,
                "txs": b.block.txs.len(),
            });
            body.extend_from_slice(s.to_string().as_bytes());
        }
        h += 1;
    }
    body.push(b']');
    Ok(raw_json(body.into()))
}

async fn block_latest(S(sh): S<Arc<Shared>>) -> R {
    let h = sh.head().0;
    let b = sh.block(h).ok_or_else(|| not_found("no block yet"))?;
    Ok(raw_json(b.json.clone()))
}

async fn block(S(sh): S<Arc<Shared>>, Path(h): Path<String>) -> R {
    let h = parse_u64(&h, "height")?;
    let b = sh.block(h).ok_or_else(|| not_found(format!("block {h}")))?;
    Ok(raw_json(b.json.clone()))
}

fn receipt(sh: &Shared, h: u64, i: u32) -> Option<Value> {
    let b = sh.block(h)?;
    let t = b.block.txs.get(i as usize)?;
    Some(json!({
        "hash": t.hash,
        "status": "committed",
        "height": h,
        "index": i,
        "timestamp": b.block.timestamp,
        "outcome": t.outcome,
        "tx": t.signed,
        "events": t.events,
    }))
}

async fn tx_get(S(sh): S<Arc<Shared>>, Path(h): Path<String>) -> R {
    let hash: B256 = h
        .parse()
        .map_err(|_| bad("invalid_hash", "expected 0x + 64 hex digits"))?;
    let loc = sh.recent.get(&hash);
    let loc = match loc {
        Some(l) => Some(l),
        None => sh.index.tx(hash).map_err(|e| internal(e.to_string()))?,
    };
    if let Some((bh, i)) = loc {
        if let Some(r) = receipt(&sh, bh, i) {
            return ok(r);
        }
    }
    if sh
        .mempool
        .lock()
        .map(|m| m.contains(&hash))
        .unwrap_or(false)
    {
        return ok(json!({"hash": hash, "status": "pending"}));
    }
    Err(not_found(format!("transaction {hash}")))
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Shared {
    /// A permit to run one signature-check task.
    async fn verifiers_owned(self: Arc<Self>) -> Result<OwnedVerifier, tokio::sync::AcquireError> {
        self.verifiers.acquire().await?.forget();
        Ok(OwnedVerifier(self))
    }
}

/// Returns its permit to `Shared::verifiers` on drop (usable on a blocking thread).
struct OwnedVerifier(Arc<Shared>);

impl Drop for OwnedVerifier {
    fn drop(&mut self) {
        self.0.verifiers.add_permits(1);
    }
}

/// A slot among the requests waiting for a commit (released on drop).
struct WaitSlot(Arc<Shared>);

impl WaitSlot {
    fn take(sh: &Arc<Shared>) -> Result<Self, ApiErr> {
        let n = sh.waiters.fetch_add(1, Ordering::SeqCst);
        if n >= sh.api.max_waiters {
            sh.waiters.fetch_sub(1, Ordering::SeqCst);
            return Err(ApiErr(
                StatusCode::SERVICE_UNAVAILABLE,
                "too_many_waiters",
                format!("{} requests already wait for a commit; submit without wait and poll /v1/tx/{{hash}}", sh.api.max_waiters),
            ));
        }
        Ok(WaitSlot(sh.clone()))
    }
}

impl Drop for WaitSlot {
    fn drop(&mut self) {
        self.0.waiters.fetch_sub(1, Ordering::SeqCst);
    }
}

fn sig_err(e: azex_client::SigError) -> ApiErr {
    ApiErr(StatusCode::BAD_REQUEST, e.code(), e.to_string())
}

/// Admit one verified transaction; returns the receiver when waiting for commit.
fn admit(
    sh: &Shared,
    hash: B256,
    signed: SignedTx,
    wait: bool,
) -> Result<Option<tokio::sync::oneshot::Receiver<TxAck>>, ApiErr> {
    if sh.stop.load(Ordering::Relaxed) {
        return Err(ApiErr(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the node is stopping".into(),
        ));
    }
    if !sh.rate.account(signed.tx.user()) {
        sh.metrics.rate_limited.fetch_add(1, Ordering::Relaxed);
        return Err(ApiErr(
            StatusCode::TOO_MANY_REQUESTS,
            "account_rate_limited",
            "too many transactions from this account".into(),
        ));
    }
    let (tx, rx) = if wait {
        let (a, b) = tokio::sync::oneshot::channel();
        (Some(a), Some(b))
    } else {
        (None, None)
    };
    let r = sh
        .mempool
        .lock()
        .map_err(|_| internal("mempool lock poisoned"))?
        .admit(hash, signed, now_secs(), tx);
    match r {
        Ok(_) => {
            sh.metrics.tx_accepted.fetch_add(1, Ordering::Relaxed);
            Ok(rx)
        }
        Err(rej) => {
            sh.metrics.tx_rejected.fetch_add(1, Ordering::Relaxed);
            let status = match rej.code {
                "mempool_full" | "account_queue_full" => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_REQUEST,
            };
            Err(ApiErr(status, rej.code, rej.message))
        }
    }
}

fn verify(chain_id: u64, s: &SignedTx) -> Result<B256, ApiErr> {
    s.verify(chain_id).map_err(sig_err)
}

async fn tx_post(
    S(sh): S<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> R {
    let wait = match q.get("wait").map(|s| s.as_str()) {
        None | Some("none") => false,
        Some("commit") => true,
        Some(x) => {
            return Err(bad(
                "invalid_parameter",
                format!("wait: expected commit, got {x:.20}"),
            ))
        }
    };
    let signed: SignedTx = parse(&body, "invalid_tx")?;
    let chain_id = sh.chain_id;
    let _waiting = if wait {
        Some(WaitSlot::take(&sh)?)
    } else {
        None
    };
    // Signature recovery off the async workers and off the sequencer.
    let _permit = sh
        .verifiers
        .acquire()
        .await
        .map_err(|_| internal("verifier pool closed"))?;
    let (hash, signed) =
        tokio::task::spawn_blocking(move || verify(chain_id, &signed).map(|h| (h, signed)))
            .await
            .map_err(|_| internal("verification task failed"))??;
    let rx = admit(&sh, hash, signed, wait)?;
    match rx {
        None => Ok((
            StatusCode::ACCEPTED,
            axum::Json(TxAck {
                hash,
                status: "pending".into(),
                height: None,
                index: None,
                outcome: None,
            }),
        )
            .into_response()),
        Some(rx) => {
            let wait_ms = sh.api.max_wait_ms;
            match tokio::time::timeout(Duration::from_millis(wait_ms), rx).await {
                Ok(Ok(ack)) if ack.status == "expired" => Err(bad(
                    "expired",
                    "the transaction expired before a block took it",
                )),
                Ok(Ok(ack)) => ok(ack),
                Ok(Err(_)) => Err(ApiErr(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "shutting_down",
                    "the node stopped before the transaction committed".into(),
                )),
                Err(_) => Err(ApiErr(
                    StatusCode::GATEWAY_TIMEOUT,
                    "commit_timeout",
                    format!("not committed within {wait_ms} ms; still pending: {hash}"),
                )),
            }
        }
    }
}

async fn txs_post(S(sh): S<Arc<Shared>>, body: Bytes) -> R {
    let raw: Vec<Box<serde_json::value::RawValue>> = parse(&body, "invalid_json")?;
    if raw.len() > sh.api.max_batch {
        return Err(bad(
            "batch_too_large",
            format!("{} transactions; at most {}", raw.len(), sh.api.max_batch),
        ));
    }
    let chain_id = sh.chain_id;
    // Parse and verify in parallel chunks on the blocking pool.
    let n = raw.len();
    let workers = std::thread::available_parallelism()
        .map(|x| x.get())
        .unwrap_or(2)
        .max(1);
    let chunk = n.div_ceil(workers).max(1);
    let raw = Arc::new(raw);
    let mut handles = Vec::new();
    for start in (0..n).step_by(chunk) {
        let raw = raw.clone();
        let permit = sh
            .clone()
            .verifiers_owned()
            .await
            .map_err(|_| internal("verifier pool closed"))?;
        handles.push(tokio::task::spawn_blocking(move || {
            let _permit = permit;
            raw[start..(start + chunk).min(raw.len())]
                .iter()
                .map(|r| {
                    let s: SignedTx = serde_json::from_str(r.get())
                        .map_err(|e| bad("invalid_tx", e.to_string()))?;
                    let h = verify(chain_id, &s)?;
                    Ok::<_, ApiErr>((h, s))
                })
                .collect::<Vec<_>>()
        }));
    }
    let mut items = Vec::with_capacity(n);
    for h in handles {
        let part = h.await.map_err(|_| internal("verification task failed"))?;
        for r in part {
            items.push(
                match r.and_then(|(h, s)| admit(&sh, h, s, false).map(|_| h)) {
                    Ok(h) => BatchItem {
                        hash: Some(h),
                        error: None,
                    },
                    Err(ApiErr(_, code, message)) => BatchItem {
                        hash: None,
                        error: Some(ApiError {
                            code: code.into(),
                            message,
                        }),
                    },
                },
            );
        }
    }
    ok(items)
}

async fn simulate(S(sh): S<Arc<Shared>>, body: Bytes) -> R {
    let tx: Tx = parse(&body, "invalid_tx")?;
    let sh2 = sh.clone();
    let r = tokio::task::spawn_blocking(move || {
        let st = sh2.state.read().map_err(|_| internal("state lock poisoned"))?;
        let height = st.block.height;
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| st.simulate(&tx)))
            .map_err(|_| internal("the engine panicked on this transaction"))?;
        Ok::<_, ApiErr>(match r {
            Ok(sim) => json!({"height": height, "ok": true, "events": jv(&sim.events), "risk_after": jv(&sim.risk_after)}),
            Err(e) => json!({"height": height, "ok": false, "refusal": {"kind": crate::chain::error_kind(&e), "message": e.to_string()}}),
        })
    })
    .await
    .map_err(|_| internal("simulation task failed"))??;
    ok(r)
}

// ------------------------------------------------------------------------------------------
// WebSocket

/// Channels a client may subscribe to.
const CHANNELS: [&str; 7] = [
    "blocks",
    "trades",
    "marks",
    "funding",
    "liquidations",
    "adl",
    "account",
];

fn event_name(e: &Value) -> &str {
    e.get("event").and_then(|v| v.as_str()).unwrap_or("")
}

/// Whether an event belongs to a channel (by event name, so that new fields do not matter).
fn in_channel(ch: &str, e: &Value) -> bool {
    let n = event_name(e);
    match ch {
        "trades" => {
            n.starts_with("position_opened")
                || n.starts_with("position_modified")
                || n.starts_with("position_closed")
                || n == "spot_swapped"
        }
        "marks" => n == "prices_updated",
        "funding" => n.starts_with("funding"),
        "liquidations" => n.contains("liquidat"),
        "adl" => n.contains("deleverag") || n.starts_with("adl") || n.contains("drawdown"),
        _ => false,
    }
}

#[derive(Default)]
struct Subs {
    channels: Vec<String>,
    accounts: Vec<Address>,
}

fn messages_for(subs: &Subs, b: &CachedBlock) -> Vec<String> {
    let mut out = Vec::new();
    let blk = &b.block;
    for ch in &subs.channels {
        if ch == "blocks" {
            out.push(
                json!({"channel": "blocks", "height": blk.height, "timestamp": blk.timestamp,
                       "state_hash": blk.state_hash, "txs": blk.txs.len()})
                .to_string(),
            );
            continue;
        }
        let evs: Vec<&Value> = crate::index::block_events(blk)
            .filter(|e| in_channel(ch, e))
            .collect();
        if !evs.is_empty() {
            out.push(json!({"channel": ch, "height": blk.height, "events": evs}).to_string());
        }
    }
    for a in &subs.accounts {
        let s = a.to_string().to_lowercase();
        let evs: Vec<&Value> = crate::index::block_events(blk)
            .filter(|e| {
                e.as_object()
                    .map(|o| {
                        o.values()
                            .any(|v| v.as_str().map(|x| x.to_lowercase() == s).unwrap_or(false))
                    })
                    .unwrap_or(false)
            })
            .collect();
        if !evs.is_empty() {
            out.push(
                json!({"channel": "account", "account": a, "height": blk.height, "events": evs})
                    .to_string(),
            );
        }
    }
    out
}

async fn ws(S(sh): S<Arc<Shared>>, up: WebSocketUpgrade) -> Response {
    if sh.metrics.ws_clients.load(Ordering::Relaxed) >= sh.api.max_ws {
        return ApiErr(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_connections",
            "websocket connection limit reached".into(),
        )
        .into_response();
    }
    up.max_message_size(16 << 10)
        .on_upgrade(move |socket| ws_session(sh, socket))
}

fn ws_error(code: &str, msg: &str) -> Message {
    Message::Text(
        json!({"error": {"code": code, "message": msg}})
            .to_string()
            .into(),
    )
}

async fn ws_session(sh: Arc<Shared>, mut socket: WebSocket) {
    sh.metrics.ws_clients.fetch_add(1, Ordering::Relaxed);
    let mut rx = sh.blocks_tx.subscribe();
    let mut subs = Subs::default();
    loop {
        tokio::select! {
            msg = socket.recv() => {
                let Some(Ok(msg)) = msg else { break };
                let text = match msg {
                    Message::Text(t) => t.to_string(),
                    Message::Close(_) => break,
                    Message::Ping(_) | Message::Pong(_) => continue,
                    Message::Binary(_) => {
                        let _ = socket.send(ws_error("invalid_message", "send JSON text")).await;
                        continue;
                    }
                };
                let reply = handle_ws_msg(&mut subs, &text);
                if socket.send(Message::Text(reply.to_string().into())).await.is_err() {
                    break;
                }
            }
            b = rx.recv() => {
                match b {
                    Ok(b) => {
                        for m in messages_for(&subs, &b) {
                            if socket.send(Message::Text(m.into())).await.is_err() {
                                sh.metrics.ws_clients.fetch_sub(1, Ordering::Relaxed);
                                return;
                            }
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        let _ = socket.send(ws_error("lagged", &format!("{n} blocks skipped: read them with GET /v1/blocks"))).await;
                    }
                    Err(_) => break,
                }
            }
        }
    }
    sh.metrics.ws_clients.fetch_sub(1, Ordering::Relaxed);
}

fn handle_ws_msg(subs: &mut Subs, text: &str) -> Value {
    let v: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return json!({"error": {"code": "invalid_json", "message": e.to_string()}}),
    };
    let op = v.get("op").and_then(|x| x.as_str()).unwrap_or("");
    let ch = v.get("channel").and_then(|x| x.as_str()).unwrap_or("");
    if !CHANNELS.contains(&ch) {
        return json!({"error": {"code": "unknown_channel", "message": format!("channels: {}", CHANNELS.join(", "))}});
    }
    let account = if ch == "account" {
        match v
            .get("account")
            .and_then(|x| x.as_str())
            .map(|s| s.parse::<Address>())
        {
            Some(Ok(a)) => Some(a),
            _ => {
                return json!({"error": {"code": "invalid_address", "message": "account: expected an address"}})
            }
        }
    } else {
        None
    };
    match op {
        "subscribe" => {
            if subs.channels.len() + subs.accounts.len() >= 16 {
                return json!({"error": {"code": "too_many_subscriptions", "message": "at most 16 per connection"}});
            }
            match account {
                Some(a) if !subs.accounts.contains(&a) => subs.accounts.push(a),
                Some(_) => {}
                None if !subs.channels.iter().any(|c| c == ch) => subs.channels.push(ch.into()),
                None => {}
            }
            json!({"subscribed": ch, "account": account})
        }
        "unsubscribe" => {
            match account {
                Some(a) => subs.accounts.retain(|x| *x != a),
                None => subs.channels.retain(|c| c != ch),
            }
            json!({"unsubscribed": ch, "account": account})
        }
        _ => json!({"error": {"code": "invalid_op", "message": "op: subscribe or unsubscribe"}}),
    }
}
