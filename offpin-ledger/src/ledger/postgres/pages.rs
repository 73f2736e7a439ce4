//! The PostgreSQL ledger's page reader ([`Ledger::find_page`](crate::ledger::Ledger::find_page)):
//! a keyset on `(created_at, access_code_id)` (ids compared bytewise,
//! `COLLATE "C"`, whatever the database's collation) and `LIMIT`.

use super::{CODE_COLUMNS, PostgresLedger};
use crate::ledger::spec::like_pattern;
use crate::ledger::{LedgerError, ListFilter, PageKey, StoredCode};

/// ASCII letters folded to lower case, as `ListFilter::matches` folds
/// them (`ILIKE` would fold every letter).
const FOLD: &str = "'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'";

impl PostgresLedger {
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
        let search = filter
            .search
            .as_deref()
            .map(|s| like_pattern(&s.to_ascii_lowercase()));
        let after_time = after.map(|a| a.created_at);
        let after_id = after.map(|a| a.access_code_id.clone());
        let limit = i64::try_from(limit).ok();
        let sql = format!(
            "SELECT {CODE_COLUMNS} FROM codes \
             WHERE ($1::text IS NULL OR device_id = $1) \
             AND ($2::text IS NULL OR user_identifier_key = $2) \
             AND (cardinality($3::text[]) = 0 OR access_code_id = ANY($3)) \
             AND ($4::text IS NULL OR translate(coalesce(name, ''), {FOLD}) LIKE $4 \
                  OR code LIKE $4 OR translate(access_code_id, {FOLD}) LIKE $4) \
             AND ($5::timestamptz IS NULL \
                  OR (created_at, access_code_id COLLATE \"C\") > ($5, $6::text COLLATE \"C\")) \
             AND ($7::bigint IS NULL OR issued_end IS NULL OR issued_end >= $7) \
             AND ($9::text IS NULL OR workspace_id = $9) \
             ORDER BY created_at, access_code_id COLLATE \"C\" LIMIT $8"
        );
        self.select_codes(
            &sql,
            &[
                &filter.device_id,
                &filter.user_identifier_key,
                &filter.access_code_ids,
                &search,
                &after_time,
                &after_id,
                &ended_before,
                &limit,
                &workspace_id,
            ],
        )
    }
}
