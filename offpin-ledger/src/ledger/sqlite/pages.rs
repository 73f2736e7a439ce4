//! The SQLite ledger's page reader ([`Ledger::find_page`](crate::ledger::Ledger::find_page)):
//! a keyset on `(created_at, access_code_id)` (issue times are stored as
//! RFC 3339 text with milliseconds and `Z`, which sorts as the times do)
//! and `LIMIT`.

use rusqlite::types::Value;

use super::{CODE_COLUMNS, SqliteLedger};
use crate::chrono_time::rfc3339_millis;
use crate::ledger::spec::like_pattern;
use crate::ledger::{LedgerError, ListFilter, PageKey, StoredCode};

impl SqliteLedger {
    /// See [`Ledger::find_page`](crate::ledger::Ledger::find_page); with
    /// a workspace, [`Ledger::find_page_in`](crate::ledger::Ledger::find_page_in)
    /// (a code's `workspace_id` is its device's).
    pub(super) fn page(
        &mut self,
        workspace_id: Option<&str>,
        filter: &ListFilter,
        after: Option<&PageKey>,
        ended_before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<StoredCode>, LedgerError> {
        // `LIKE` folds ASCII letters only, as ListFilter::matches does.
        let mut args: Vec<Value> = vec![
            filter.device_id.clone().map_or(Value::Null, Value::Text),
            filter
                .user_identifier_key
                .clone()
                .map_or(Value::Null, Value::Text),
            filter
                .search
                .as_deref()
                .map_or(Value::Null, |s| Value::Text(like_pattern(s))),
            after.map_or(Value::Null, |a| Value::Text(rfc3339_millis(&a.created_at))),
            after.map_or(Value::Null, |a| Value::Text(a.access_code_id.clone())),
            ended_before.map_or(Value::Null, Value::Integer),
            Value::Integer(i64::try_from(limit).unwrap_or(-1)),
            workspace_id.map_or(Value::Null, |w| Value::Text(w.to_owned())),
        ];
        let ids = if filter.access_code_ids.is_empty() {
            String::new()
        } else {
            let first = args.len() + 1;
            let marks: Vec<String> = (first..first + filter.access_code_ids.len())
                .map(|i| format!("?{i}"))
                .collect();
            args.extend(filter.access_code_ids.iter().cloned().map(Value::Text));
            format!(" AND access_code_id IN ({})", marks.join(", "))
        };
        let sql = format!(
            "SELECT {CODE_COLUMNS} FROM codes \
             WHERE (?1 IS NULL OR device_id = ?1) \
             AND (?2 IS NULL OR user_identifier_key = ?2) \
             AND (?3 IS NULL OR name LIKE ?3 ESCAPE '\\' OR code LIKE ?3 ESCAPE '\\' OR access_code_id LIKE ?3 ESCAPE '\\') \
             AND (?4 IS NULL OR (created_at, access_code_id) > (?4, ?5)) \
             AND (?6 IS NULL OR issued_end IS NULL OR issued_end >= ?6) \
             AND (?8 IS NULL OR workspace_id = ?8){ids} \
             ORDER BY created_at, access_code_id LIMIT ?7"
        );
        self.select_codes(&sql, rusqlite::params_from_iter(args))
    }
}
