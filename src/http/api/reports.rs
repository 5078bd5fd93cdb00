//! Detailed reports through the API: every disposal (Form 8949 lines,
//! HMRC's computation, or the layout TurboTax imports), income, holdings on
//! a date, and the trail of how each disposal was matched.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{Object, OpenApi};

use super::Tag;
use super::books::{CsvReport, options};
use super::members::scope;
use super::policy::Access;
use crate::http::AppState;
use crate::http::error::{ApiError, body};
use crate::reports::{self, Detail, Lines, Options};

#[derive(Debug, Object)]
pub struct DetailReport {
    pub columns: Vec<String>,
    pub lines: Vec<serde_json::Value>,
    /// False when data is missing; `issues` says what.
    pub complete: bool,
    pub issues: Vec<serde_json::Value>,
    /// SHA-256 of the rows and settings: the same inputs always give the
    /// identical report.
    pub input_sha256: String,
}

#[derive(Debug, Object)]
pub struct Trail {
    /// One entry per disposal, with the lots or rules that supplied its cost.
    pub disposals: Vec<serde_json::Value>,
}

fn bad(message: String) -> ApiError {
    ApiError::BadRequest(body("invalid_request", message))
}

/// The workspace's book and the options with its time zone.
async fn load(
    state: &AppState,
    access: &Access,
    mut o: Options,
) -> Result<(crate::ledger::review::Book, Options), ApiError> {
    let (ws, _) = scope(access)?;
    o.timezone = state.store.workspace_timezone(ws).await?;
    let book = reports::priced::book(&state.store, ws, &o).await?;
    Ok((book, o))
}

async fn lines(
    state: &AppState,
    access: &Access,
    o: Options,
    which: Detail,
) -> Result<Lines, ApiError> {
    let (book, o) = load(state, access, o).await?;
    reports::detail(&book, &o, which).map_err(bad)
}

fn holdings_date(date: Option<String>) -> Result<Detail, ApiError> {
    let date = date.ok_or_else(|| bad("holdings needs date=YYYY-MM-DD".into()))?;
    let parsed = date
        .parse()
        .map_err(|_| bad(format!("date {date:?} is not YYYY-MM-DD")))?;
    Ok(Detail::Holdings(parsed))
}

fn which(report: &str, date: Option<String>) -> Result<Detail, ApiError> {
    match report {
        "capital-gains" => Ok(Detail::CapitalGains),
        "income" => Ok(Detail::Income),
        "holdings" => holdings_date(date),
        other => Err(ApiError::NotFound(body(
            "not_found",
            format!("no report {other:?}; use capital-gains, income or holdings"),
        ))),
    }
}

pub struct ReportsApi;

#[OpenApi(tag = "Tag::Books")]
impl ReportsApi {
    /// A detailed report as JSON: `capital-gains` (one line per lot piece
    /// for the US, per disposal day for the UK), `income`, or `holdings`
    /// (with `date`), exactly as the CLI prints them.
    #[oai(
        path = "/workspaces/:workspace_id/reports/detail/:report",
        method = "get",
        operation_id = "report_detail"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn detail(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        report: Path<String>,
        jurisdiction: Query<String>,
        method: Query<Option<String>>,
        basis: Query<Option<String>>,
        transfer_fee: Query<Option<String>>,
        currency: Query<Option<String>>,
        year: Query<Option<String>>,
        date: Query<Option<String>>,
    ) -> Result<Json<DetailReport>, ApiError> {
        let o = options(
            jurisdiction.0,
            method.0,
            basis.0,
            transfer_fee.0,
            currency.0,
            year.0,
        );
        let lines = lines(&state, &access, o, which(&report.0, date.0)?).await?;
        let issues = lines
            .issues
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(ApiError::internal)?;
        Ok(Json(DetailReport {
            columns: lines.columns.iter().map(|c| c.to_string()).collect(),
            complete: issues.is_empty(),
            lines: lines.lines,
            issues,
            input_sha256: lines.input_sha256,
        }))
    }

    /// A detailed report as CSV. For US capital gains, `layout=turbotax`
    /// gives the columns TurboTax imports (`Currency Name, Purchase Date,
    /// Cost Basis, Date Sold, Proceeds`).
    #[oai(
        path = "/workspaces/:workspace_id/reports/csv/:report",
        method = "get",
        operation_id = "report_detail_csv"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn detail_csv(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        report: Path<String>,
        jurisdiction: Query<String>,
        method: Query<Option<String>>,
        basis: Query<Option<String>>,
        transfer_fee: Query<Option<String>>,
        currency: Query<Option<String>>,
        year: Query<Option<String>>,
        date: Query<Option<String>>,
        layout: Query<Option<String>>,
    ) -> Result<CsvReport, ApiError> {
        let turbotax = match layout.0.as_deref() {
            None | Some("standard") => false,
            Some("turbotax") if report.0 == "capital-gains" && jurisdiction.0 == "us" => true,
            Some(other) => {
                return Err(bad(format!(
                    "layout {other:?} is not available here; turbotax is for US capital gains"
                )));
            }
        };
        let o = options(
            jurisdiction.0,
            method.0,
            basis.0,
            transfer_fee.0,
            currency.0,
            year.0,
        );
        let name = format!(
            "ledgersys-{}-{}{}.csv",
            report.0,
            o.jurisdiction,
            if turbotax { "-turbotax" } else { "" }
        );
        let lines = lines(&state, &access, o, which(&report.0, date.0)?).await?;
        let text = if turbotax {
            reports::detail::turbotax_csv(&lines.lines)
        } else {
            reports::detail::to_csv(&lines.lines, &lines.columns)
        };
        Ok(CsvReport::Ok(
            PlainText(text),
            format!("attachment; filename=\"{name}\""),
        ))
    }

    /// How each disposal was matched: the lots it drew on (by the stored
    /// rows that opened them, and whether they were picked) or, in the UK,
    /// what each matching rule supplied.
    #[oai(
        path = "/workspaces/:workspace_id/reports/trail",
        method = "get",
        operation_id = "report_trail"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn trail(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        jurisdiction: Query<String>,
        method: Query<Option<String>>,
        basis: Query<Option<String>>,
        transfer_fee: Query<Option<String>>,
        currency: Query<Option<String>>,
    ) -> Result<Json<Trail>, ApiError> {
        let o = options(
            jurisdiction.0,
            method.0,
            basis.0,
            transfer_fee.0,
            currency.0,
            None,
        );
        let (book, o) = load(&state, &access, o).await?;
        let disposals = reports::trail::trail(&book, &o).map_err(bad)?;
        Ok(Json(Trail { disposals }))
    }
}
