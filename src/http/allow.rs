//! The `Allow` header on every 405 (RFC 9110 §15.5.6). Poem's routers do not
//! say which methods a path has, so the server keeps its own table: the
//! API's from the OpenAPI document it generates, the UI's recorded as its
//! routes are added ([`Routes`]), so neither can drift from the routing.

use std::sync::Arc;

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, IntoEndpoint, Middleware, Request, Response, Result, Route, RouteMethod};

/// Path templates and the methods each answers.
#[derive(Debug, Default, Clone)]
pub struct AllowTable {
    routes: Vec<(Vec<Segment>, Vec<Method>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Exact(String),
    /// `:name` or `{name}`: any one segment.
    One,
    /// `*name`: the rest of the path.
    Rest,
}

impl AllowTable {
    /// Adds a route; `template` uses poem's (`:id`, `*rest`) or OpenAPI's
    /// (`{id}`) placeholders.
    pub fn add(&mut self, template: &str, methods: &[Method]) {
        let segments = template
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                if s.starts_with(':') || (s.starts_with('{') && s.ends_with('}')) {
                    Segment::One
                } else if s.starts_with('*') {
                    Segment::Rest
                } else {
                    Segment::Exact(s.to_string())
                }
            })
            .collect();
        match self.routes.iter_mut().find(|(s, _)| *s == segments) {
            Some((_, known)) => known.extend(methods.iter().cloned()),
            None => self.routes.push((segments, methods.to_vec())),
        }
    }

    /// Adds every operation of a generated OpenAPI document (JSON), its
    /// paths under `prefix`.
    pub fn add_openapi(&mut self, spec: &str, prefix: &str) {
        let Ok(doc) = serde_json::from_str::<serde_json::Value>(spec) else {
            return;
        };
        let Some(paths) = doc["paths"].as_object() else {
            return;
        };
        for (path, operations) in paths {
            let methods: Vec<Method> = operations
                .as_object()
                .into_iter()
                .flat_map(|ops| ops.keys())
                .filter_map(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
                .collect();
            self.add(&format!("{prefix}{path}"), &methods);
        }
    }

    /// The `Allow` value for `path`, most specific template first: exact
    /// segments beat placeholders, as in the router.
    pub fn allowed(&self, path: &str) -> Option<String> {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let (_, methods) = self
            .routes
            .iter()
            .filter(|(template, _)| matches(template, &parts))
            .max_by_key(|(template, _)| {
                template
                    .iter()
                    .filter(|s| matches!(s, Segment::Exact(_)))
                    .count()
            })?;
        let mut names: Vec<&str> = methods.iter().map(Method::as_str).collect();
        if methods.contains(&Method::GET) {
            names.push("HEAD"); // poem answers HEAD wherever GET is routed
        }
        names.sort_unstable();
        names.dedup();
        Some(names.join(", "))
    }
}

fn matches(template: &[Segment], parts: &[&str]) -> bool {
    let mut parts = parts.iter();
    for segment in template {
        match segment {
            Segment::Rest => return true,
            Segment::One => {
                if parts.next().is_none() {
                    return false;
                }
            }
            Segment::Exact(text) => {
                if parts.next() != Some(&text.as_str()) {
                    return false;
                }
            }
        }
    }
    parts.next().is_none()
}

/// A router that records what it routes, for [`AllowTable`].
pub struct Routes {
    route: Route,
    table: AllowTable,
}

impl Routes {
    pub fn new() -> Routes {
        Routes {
            route: Route::new(),
            table: AllowTable::default(),
        }
    }

    pub fn at(mut self, path: &str, methods: Methods) -> Routes {
        self.table.add(path, &methods.methods);
        self.route = self.route.at(path, methods.route);
        self
    }

    pub fn into_parts(self) -> (Route, AllowTable) {
        (self.route, self.table)
    }
}

impl Default for Routes {
    fn default() -> Self {
        Routes::new()
    }
}

/// A path's handlers by method, remembering which methods they are.
pub struct Methods {
    route: RouteMethod,
    methods: Vec<Method>,
}

impl Methods {
    pub fn get<E: IntoEndpoint>(self, ep: E) -> Methods
    where
        E::Endpoint: 'static,
    {
        self.method(Method::GET, ep)
    }

    pub fn post<E: IntoEndpoint>(self, ep: E) -> Methods
    where
        E::Endpoint: 'static,
    {
        self.method(Method::POST, ep)
    }

    fn method<E: IntoEndpoint>(mut self, method: Method, ep: E) -> Methods
    where
        E::Endpoint: 'static,
    {
        self.methods.push(method.clone());
        self.route = self.route.method(method, ep);
        self
    }
}

pub fn get<E: IntoEndpoint>(ep: E) -> Methods
where
    E::Endpoint: 'static,
{
    empty().get(ep)
}

pub fn post<E: IntoEndpoint>(ep: E) -> Methods
where
    E::Endpoint: 'static,
{
    empty().post(ep)
}

fn empty() -> Methods {
    Methods {
        route: RouteMethod::new(),
        methods: Vec::new(),
    }
}

/// Puts `Allow` on every 405 the inner endpoint answers.
pub struct AddAllow(pub Arc<AllowTable>);

impl<E: Endpoint<Output = Response>> Middleware<E> for AddAllow {
    type Output = AddAllowEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        AddAllowEndpoint {
            inner: ep,
            table: self.0.clone(),
        }
    }
}

pub struct AddAllowEndpoint<E> {
    inner: E,
    table: Arc<AllowTable>,
}

impl<E: Endpoint<Output = Response>> Endpoint for AddAllowEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        let path = req.uri().path().to_string();
        let mut resp = self.inner.call(req).await?;
        if resp.status() == StatusCode::METHOD_NOT_ALLOWED
            && let Some(allow) = self.table.allowed(&path)
            && let Ok(value) = HeaderValue::from_str(&allow)
        {
            resp.headers_mut().insert(header::ALLOW, value);
        }
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::AllowTable;
    use poem::http::Method;

    #[test]
    fn the_most_specific_template_names_the_methods() {
        let mut table = AllowTable::default();
        table.add("/wallets/:wallet_id/sync", &[Method::POST]);
        table.add("/wallets/labels", &[Method::POST]);
        table.add("/login", &[Method::GET, Method::POST]);
        table.add("/assets/*name", &[Method::GET]);
        table.add_openapi(
            r#"{"paths":{"/api/v1/workspaces/{workspace_id}/wallets":{"get":{},"post":{}},
                "/api/v1/workspaces/{workspace_id}/wallets/{wallet_id}":{"delete":{}}}}"#,
            "",
        );
        assert_eq!(table.allowed("/login").as_deref(), Some("GET, HEAD, POST"));
        assert_eq!(table.allowed("/wallets/7/sync").as_deref(), Some("POST"));
        assert_eq!(table.allowed("/wallets/labels").as_deref(), Some("POST"));
        assert_eq!(
            table.allowed("/assets/app.css").as_deref(),
            Some("GET, HEAD")
        );
        assert_eq!(
            table.allowed("/api/v1/workspaces/1/wallets").as_deref(),
            Some("GET, HEAD, POST")
        );
        assert_eq!(
            table.allowed("/api/v1/workspaces/1/wallets/3").as_deref(),
            Some("DELETE")
        );
        assert_eq!(table.allowed("/nowhere"), None);
    }
}
