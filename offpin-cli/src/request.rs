//! The requests of the hosted access-code API that `offpin serve` speaks:
//! their types (with their OpenAPI schemas) and their decoding.
//!
//! Every endpoint takes its parameters the ways the official SDKs send
//! them ([`decode`]): a JSON body (POST, PUT, PATCH, and a GET with a body
//! as in the API's curl examples), or a query string (GET and DELETE):
//! arrays as repeated keys (`access_code_ids=a&access_code_ids=b`),
//! booleans as `true`/`false`, an empty value for null or an empty array,
//! and the SDKs' `_strict=true` marker. Unknown fields are refused, and
//! every error names its field.

use chrono::{DateTime, Utc};
use offpin_ledger::chrono_time::parse_rfc3339;
use offpin_ledger::ledger::hosted::{
    CodeUpdate, CreateCode, DEFAULT_MAX_TIME_ROUNDING_SECS, RequestError, max_time_rounding_secs,
    schedule,
};
use offpin_ledger::ledger::{DeviceFilter, ListFilter, SharedSpec, WhenNotShared};
use offpin_ledger::record::CodeType;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use utoipa::{IntoParams, ToSchema};

/// Why a request could not be decoded: the field (dotted path) when one
/// is to blame, and the decoder's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// The field, if the error is about one.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl From<RequestError> for DecodeError {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::Invalid { field, message } => DecodeError {
                field: Some(field.to_owned()),
                message,
            },
            other => DecodeError {
                field: other.field().map(str::to_owned),
                message: other.to_string(),
            },
        }
    }
}

/// The field serde names in an "unknown field `x`" or "missing field `x`"
/// message.
fn quoted_field(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("missing field `"))?;
    rest.split_once('`').map(|(f, _)| f.to_owned())
}

fn from_path<E: core::fmt::Display>(e: &serde_path_to_error::Error<E>) -> DecodeError {
    let message = e.inner().to_string();
    let path = e.path().to_string();
    let field = if path == "." || path.is_empty() {
        quoted_field(&message)
    } else {
        Some(path)
    };
    // A parameter without a name (`=x` in a query) is no field to name.
    let field = field.filter(|f| !f.is_empty());
    DecodeError { field, message }
}

/// The query pairs a decoder should see: without the SDKs' `_strict`
/// marker and without empty values (the SDKs' null and empty array).
fn meaningful_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .filter(|(k, v)| k != "_strict" && !v.is_empty())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Decodes a request's parameters from its JSON `body`, or, when the body
/// is empty, from its `query` string (see the module's documentation).
///
/// # Errors
///
/// A [`DecodeError`] naming the field: malformed JSON, a value of the
/// wrong type, an unknown or missing field, parameters in both the body
/// and the query, a body that is not a JSON object (an array's elements
/// would otherwise be read as fields, by position).
///
/// # Examples
///
/// ```
/// use offpin_cli::request::{ListRequest, decode};
/// let q = "_strict=true&access_code_ids=a&access_code_ids=b&device_id=front";
/// let list: ListRequest = decode(Some(q), b"")?;
/// assert_eq!(list.access_code_ids, ["a", "b"]);
/// let body: ListRequest = decode(None, br#"{"device_id": "front"}"#)?;
/// assert_eq!(body.device_id.as_deref(), Some("front"));
/// let bad = decode::<ListRequest>(None, br#"{"device": "front"}"#).unwrap_err();
/// assert_eq!(bad.field.as_deref(), Some("device"));
/// assert!(decode::<ListRequest>(None, br#"["front"]"#).is_err());
/// # Ok::<(), offpin_cli::request::DecodeError>(())
/// ```
pub fn decode<T: DeserializeOwned>(query: Option<&str>, body: &[u8]) -> Result<T, DecodeError> {
    let pairs = meaningful_pairs(query.unwrap_or_default());
    if body.iter().all(u8::is_ascii_whitespace) {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        let de = serde_html_form::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        return serde_path_to_error::deserialize(de).map_err(|e| from_path(&e));
    }
    if let Some((key, _)) = pairs.first() {
        return Err(DecodeError {
            field: Some(key.clone()).filter(|k| !k.is_empty()),
            message: "send the parameters in the JSON body or in the query string, not both"
                .to_owned(),
        });
    }
    // serde reads a struct from a JSON array too, field by position: the
    // API's bodies are objects, and nothing else is read.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(DecodeError {
            field: None,
            message: "the request body must be a JSON object, like {\"device_id\": \"front-door\"}"
                .to_owned(),
        });
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| from_path(&e))?;
    de.end().map_err(|e| DecodeError {
        field: None,
        message: e.to_string(),
    })?;
    Ok(value)
}

/// `Some(x)` for a present value (`null` included, as `Some(None)`),
/// `None` for an absent one.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A time field: RFC 3339 / ISO 8601 with an offset.
fn time(field: &'static str, text: Option<&str>) -> Result<Option<DateTime<Utc>>, RequestError> {
    text.map(|t| parse_rfc3339(t).map_err(|message| RequestError::Invalid { field, message }))
        .transpose()
}

fn refuse(field: &'static str, message: &str) -> RequestError {
    RequestError::Invalid {
        field,
        message: message.to_owned(),
    }
}

/// How far the ends of a window may move outward to fit the lock's units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
pub enum MaxTimeRounding {
    /// One hour.
    #[serde(rename = "1h")]
    Hour,
    /// One hour.
    #[serde(rename = "1hour")]
    HourLong,
    /// One day (daily windows).
    #[serde(rename = "1d")]
    Day,
    /// One day (daily windows).
    #[serde(rename = "1day")]
    DayLong,
}

impl MaxTimeRounding {
    fn text(self) -> &'static str {
        match self {
            MaxTimeRounding::Hour => "1h",
            MaxTimeRounding::HourLong => "1hour",
            MaxTimeRounding::Day => "1d",
            MaxTimeRounding::DayLong => "1day",
        }
    }
}

/// `POST /access_codes/create`: an offline code, time-bound (`starts_at`
/// and `ends_at`), one-time (`is_one_time_use` and `starts_at`) or ongoing
/// (neither time); with offpin's extension fields, weekly recurring
/// (`offpin_recurrence`, with both times) or clock-setting
/// (`offpin_clock_setting`, with neither).
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    /// The device (lock).
    #[schema(example = "front-door")]
    pub device_id: String,
    /// Name of the code.
    pub name: Option<String>,
    /// Start of the window (ISO 8601 with an offset).
    #[schema(format = DateTime, example = "2027-01-01T16:00:00+01:00")]
    pub starts_at: Option<String>,
    /// End of the window, exclusive (time-bound codes).
    #[schema(format = DateTime, example = "2027-01-03T11:00:00+01:00")]
    pub ends_at: Option<String>,
    /// Must be `true` or absent: this server issues offline codes.
    pub is_offline_access_code: Option<bool>,
    /// Deprecated name of `is_offline_access_code`.
    pub use_offline_access_code: Option<bool>,
    /// A one-time code: opens once, within the profile's use window after
    /// `starts_at`.
    pub is_one_time_use: Option<bool>,
    /// How far each end of the window may move outward (default `1h`;
    /// `1d` for daily windows).
    pub max_time_rounding: Option<MaxTimeRounding>,
    /// Preferred PIN length; a device offers its profile's length, which
    /// is used when it differs.
    #[schema(minimum = 1, maximum = 255)]
    pub preferred_code_length: Option<u32>,
    /// Your own user id, for `list` by `user_identifier_key`.
    pub user_identifier_key: Option<String>,
    /// Refused: an offline PIN is derived, not chosen.
    pub code: Option<String>,
    /// Refused here: one PIN for several locks is issued by
    /// `/access_codes/create_multiple` to the members of a group.
    pub common_code_key: Option<String>,
    /// Must be `false` or absent.
    pub allow_external_modification: Option<bool>,
    /// Must be `false` or absent.
    pub is_external_modification_allowed: Option<bool>,
    /// Must be `true` or absent: the lock itself enforces the window.
    pub prefer_native_scheduling: Option<bool>,
    /// Accepted and ignored: offline codes need no connection to the lock.
    pub attempt_for_offline_device: Option<bool>,
    /// Must be `false` or absent.
    pub use_backup_access_code_pool: Option<bool>,
    /// offpin's extension: a weekly recurring code (format-v2 profiles),
    /// open on `weekdays` from `starts_at_time` to `ends_at_time` (the
    /// lock's local time) in the whole weeks that cover `starts_at` ..
    /// `ends_at`. Refused (400 naming the field) when the profile's menu
    /// cannot express the schedule (the message names the nearest it
    /// can), or when a slot of those weeks would open before `starts_at`
    /// or close after `ends_at` by more than `max_time_rounding`.
    pub offpin_recurrence: Option<RecurrenceParam>,
    /// offpin's extension: a clock-setting code (format-v2 profiles), for
    /// API keys created with `--can-issue-clock-codes` only (403
    /// otherwise). It opens nothing: typed at the lock up to the
    /// profile's step before `sets_clock_to`, it moves the lock's clock
    /// forward to that instant (rounded down to the profile's clock unit,
    /// within `max_time_rounding`). No `starts_at`, `ends_at` or
    /// `is_one_time_use` with it.
    pub offpin_clock_setting: Option<ClockSettingParam>,
}

/// `offpin_recurrence` of a create request.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecurrenceParam {
    /// The days it opens on: `monday` … `sunday` (or `mon` … `sun`).
    #[schema(example = json!(["monday", "tuesday", "wednesday", "thursday", "friday"]))]
    pub weekdays: Vec<String>,
    /// When each day's slot opens, the lock's local time: a whole hour.
    #[schema(example = "09:00")]
    pub starts_at_time: String,
    /// When it closes (`24:00`: midnight), a whole hour after the start.
    #[schema(example = "17:00")]
    pub ends_at_time: String,
}

/// `offpin_clock_setting` of a create request.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockSettingParam {
    /// The instant the lock's clock is set to (ISO 8601 with an offset).
    #[schema(format = DateTime, example = "2027-01-04T09:00:00Z")]
    pub sets_clock_to: String,
}

impl CreateRequest {
    /// The library's create request, and the preferred code length.
    ///
    /// # Errors
    ///
    /// [`RequestError::Invalid`] naming the field: an unparsable time, a
    /// feature offline codes do not have, an out-of-range length, times
    /// that disagree with the kind ([`CreateCode::want`]).
    pub fn parse(&self) -> Result<CreateCode, RequestError> {
        if self.is_offline_access_code == Some(false) || self.use_offline_access_code == Some(false)
        {
            return Err(refuse(
                "is_offline_access_code",
                "this server issues offline access codes only",
            ));
        }
        if self.code.is_some() {
            return Err(refuse(
                "code",
                "an offline PIN is derived from the lock's key and the window; it cannot be chosen",
            ));
        }
        if self.common_code_key.is_some() {
            return Err(refuse(
                "common_code_key",
                "one PIN for several locks is issued by /access_codes/create_multiple to the members of a group",
            ));
        }
        for (field, value) in [
            (
                "allow_external_modification",
                self.allow_external_modification,
            ),
            (
                "is_external_modification_allowed",
                self.is_external_modification_allowed,
            ),
            (
                "use_backup_access_code_pool",
                self.use_backup_access_code_pool,
            ),
        ] {
            if value == Some(true) {
                return Err(refuse(field, "not offered for offline codes"));
            }
        }
        if self.prefer_native_scheduling == Some(false) {
            return Err(refuse(
                "prefer_native_scheduling",
                "an offline code is always scheduled on the lock",
            ));
        }
        if let Some(n) = self.preferred_code_length
            && !(1..=255).contains(&n)
        {
            return Err(refuse("preferred_code_length", "must be 1 to 255"));
        }
        let recurrence = self
            .offpin_recurrence
            .as_ref()
            .map(|r| schedule(&r.weekdays, &r.starts_at_time, &r.ends_at_time))
            .transpose()?;
        let sets_clock_to = self
            .offpin_clock_setting
            .as_ref()
            .map(|c| time("offpin_clock_setting.sets_clock_to", Some(&c.sets_clock_to)))
            .transpose()?
            .flatten();
        let create = CreateCode {
            recurrence,
            sets_clock_to,
            device_id: self.device_id.clone(),
            name: self.name.clone(),
            starts_at: time("starts_at", self.starts_at.as_deref())?,
            ends_at: time("ends_at", self.ends_at.as_deref())?,
            is_one_time_use: self.is_one_time_use.unwrap_or(false),
            max_time_rounding_secs: self
                .max_time_rounding
                .and_then(|r| max_time_rounding_secs(r.text()))
                .unwrap_or(DEFAULT_MAX_TIME_ROUNDING_SECS),
            user_identifier_key: self.user_identifier_key.clone(),
            preferred_code_length: self
                .preferred_code_length
                .and_then(|n| u8::try_from(n).ok()),
        };
        create.want()?;
        Ok(create)
    }
}

/// `behavior_when_code_cannot_be_shared`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WhenNotSharedParam {
    /// Refuse, and create nothing (the default).
    Throw,
    /// Give each device a code of its own, under its own key.
    CreateRandomCode,
}

/// `PUT /access_codes/create_multiple` (older SDKs POST it): one PIN for
/// several locks, which must be exactly the members of one group
/// (`offpin group`): a group PIN opens every member, so a subset would
/// hand out a PIN that opens a lock with no record of it. Each device
/// gets its own record with the same `code` and `common_code_key`. The
/// times and offline fields are those of `/access_codes/create`.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMultipleRequest {
    /// The devices: every member of one group.
    #[schema(example = json!(["front-door", "side-door"]))]
    pub device_ids: Vec<String>,
    /// What to do when the devices cannot share one PIN (they are not
    /// the members of one group, or no variance of the window is free on
    /// every member): `throw` (default) or `create_random_code`.
    pub behavior_when_code_cannot_be_shared: Option<WhenNotSharedParam>,
    /// Name of the codes.
    pub name: Option<String>,
    /// Start of the window (ISO 8601 with an offset).
    #[schema(format = DateTime, example = "2027-01-01T16:00:00+01:00")]
    pub starts_at: Option<String>,
    /// End of the window, exclusive (time-bound codes).
    #[schema(format = DateTime, example = "2027-01-03T11:00:00+01:00")]
    pub ends_at: Option<String>,
    /// Preferred PIN length (the devices' profile's length is used).
    #[schema(minimum = 1, maximum = 255)]
    pub preferred_code_length: Option<u32>,
    /// A one-time code.
    pub is_one_time_use: Option<bool>,
    /// How far each end of the window may move outward (default `1h`).
    pub max_time_rounding: Option<MaxTimeRounding>,
    /// Must be `true` or absent.
    pub is_offline_access_code: Option<bool>,
    /// Deprecated name of `is_offline_access_code`.
    pub use_offline_access_code: Option<bool>,
    /// Your own user id, for `list` by `user_identifier_key`.
    pub user_identifier_key: Option<String>,
    /// Refused: an offline PIN is derived, not chosen.
    pub code: Option<String>,
    /// Must be `false` or absent.
    pub allow_external_modification: Option<bool>,
    /// Must be `false` or absent.
    pub is_external_modification_allowed: Option<bool>,
    /// Must be `true` or absent.
    pub prefer_native_scheduling: Option<bool>,
    /// Accepted and ignored.
    pub attempt_for_offline_device: Option<bool>,
    /// Must be `false` or absent.
    pub use_backup_access_code_pool: Option<bool>,
}

impl CreateMultipleRequest {
    /// The ledger's request: the fields checked as `/access_codes/create`
    /// checks them.
    ///
    /// # Errors
    ///
    /// [`RequestError::Invalid`] naming the field (`device_ids` when it is
    /// empty).
    pub fn parse(&self) -> Result<SharedSpec, RequestError> {
        if self.device_ids.is_empty() {
            return Err(refuse("device_ids", "list at least one device"));
        }
        let single = CreateRequest {
            device_id: self.device_ids.first().cloned().unwrap_or_default(),
            name: self.name.clone(),
            starts_at: self.starts_at.clone(),
            ends_at: self.ends_at.clone(),
            is_offline_access_code: self.is_offline_access_code,
            use_offline_access_code: self.use_offline_access_code,
            is_one_time_use: self.is_one_time_use,
            max_time_rounding: self.max_time_rounding,
            preferred_code_length: self.preferred_code_length,
            user_identifier_key: self.user_identifier_key.clone(),
            code: self.code.clone(),
            common_code_key: None,
            allow_external_modification: self.allow_external_modification,
            is_external_modification_allowed: self.is_external_modification_allowed,
            prefer_native_scheduling: self.prefer_native_scheduling,
            attempt_for_offline_device: self.attempt_for_offline_device,
            use_backup_access_code_pool: self.use_backup_access_code_pool,
            offpin_recurrence: None,
            offpin_clock_setting: None,
        };
        let create = single.parse()?;
        Ok(SharedSpec {
            device_ids: self.device_ids.clone(),
            want: create.want()?,
            max_rounding_secs: create.max_time_rounding_secs,
            name: create.name,
            user_identifier_key: create.user_identifier_key,
            when_not_shared: match self.behavior_when_code_cannot_be_shared {
                Some(WhenNotSharedParam::CreateRandomCode) => WhenNotShared::CreateRandomCode,
                Some(WhenNotSharedParam::Throw) | None => WhenNotShared::Throw,
            },
        })
    }
}

/// `/access_codes/list`: at least `device_id` or `access_code_ids`; every
/// filter given must match.
#[derive(Clone, Debug, Default, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListRequest {
    /// Codes of this device.
    #[schema(example = "front-door")]
    #[param(example = "front-door")]
    pub device_id: Option<String>,
    /// Codes with these ids.
    #[serde(default)]
    pub access_code_ids: Vec<String>,
    /// Codes issued for this user.
    pub user_identifier_key: Option<String>,
    /// Codes whose name, PIN or id contains this text (ASCII letters in
    /// either case).
    #[param(example = "Ann")]
    pub search: Option<String>,
    /// Most codes on a page (1 to 10000); without it, every code.
    /// More codes follow when `pagination.has_next_page` is `true`.
    #[schema(minimum = 1, maximum = 10_000)]
    #[param(minimum = 1, maximum = 10_000)]
    pub limit: Option<u32>,
    /// The previous page's `pagination.next_page_cursor`, unchanged, with
    /// the same filters (omit it for the first page). Codes are paged in
    /// issue order by a keyset: codes issued meanwhile never shift a page.
    pub page_cursor: Option<String>,
}

/// Largest `limit` of a page.
pub const MAX_LIMIT: u32 = 10_000;

/// `limit` as a page size: 1 to [`MAX_LIMIT`], or absent (everything).
///
/// # Errors
///
/// [`RequestError::Invalid`] naming `limit`.
pub fn page_limit(limit: Option<u32>) -> Result<Option<usize>, RequestError> {
    match limit {
        None => Ok(None),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(usize::try_from(n).ok()),
        Some(_) => Err(refuse("limit", "must be 1 to 10000")),
    }
}

impl ListRequest {
    /// The ledger's filter.
    pub fn filter(&self) -> ListFilter {
        ListFilter {
            device_id: self.device_id.clone(),
            access_code_ids: self.access_code_ids.clone(),
            user_identifier_key: self.user_identifier_key.clone(),
            search: self.search.clone(),
        }
    }

    /// The parameters as query pairs (arrays as repeated keys), without
    /// `page_cursor`: the query of a `next_page_url`.
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        for id in &self.access_code_ids {
            pairs.push(("access_code_ids", id.clone()));
        }
        let one = [
            ("device_id", self.device_id.clone()),
            ("limit", self.limit.map(|n| n.to_string())),
            ("search", self.search.clone()),
            ("user_identifier_key", self.user_identifier_key.clone()),
        ];
        pairs.extend(one.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        pairs
    }
}

/// `/access_codes/get`: by `access_code_id`, or by `device_id` and `code`.
#[derive(Clone, Debug, Default, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GetRequest {
    /// The code's id.
    pub access_code_id: Option<String>,
    /// The device (with `code`).
    pub device_id: Option<String>,
    /// The PIN (with `device_id`).
    pub code: Option<String>,
}

/// Which code a get request names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GetBy {
    /// By id.
    Id(String),
    /// By device and PIN.
    Code {
        /// The device.
        device_id: String,
        /// The PIN.
        code: String,
    },
}

impl GetRequest {
    /// Which code is asked for.
    ///
    /// # Errors
    ///
    /// [`RequestError::Invalid`] unless exactly one of the two ways is
    /// given.
    pub fn by(&self) -> Result<GetBy, RequestError> {
        match (&self.access_code_id, &self.device_id, &self.code) {
            (Some(id), None, None) => Ok(GetBy::Id(id.clone())),
            (None, Some(device_id), Some(code)) => Ok(GetBy::Code {
                device_id: device_id.clone(),
                code: code.clone(),
            }),
            (None, _, None) => Err(refuse(
                "access_code_id",
                "give access_code_id, or device_id and code",
            )),
            (None, None, Some(_)) => Err(refuse("device_id", "code needs device_id")),
            (Some(_), _, _) => Err(refuse(
                "access_code_id",
                "give access_code_id, or device_id and code, not both",
            )),
        }
    }
}

/// `/access_codes/delete`.
#[derive(Clone, Debug, Default, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteRequest {
    /// The code's id.
    pub access_code_id: String,
    /// If given, the code's device must be this one.
    pub device_id: Option<String>,
}

/// The `type` field of an update.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TypeParam {
    /// Ongoing.
    Ongoing,
    /// Time-bound.
    TimeBound,
}

/// `/access_codes/update`: only `name` may change; any other field must
/// equal the code's own value.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequest {
    /// The code's id.
    pub access_code_id: String,
    /// New name (`null` clears it).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    /// Must equal the code's `starts_at`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub starts_at: Option<Option<String>>,
    /// Must equal the code's `ends_at`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub ends_at: Option<Option<String>>,
    /// Must equal the code's type.
    #[serde(rename = "type")]
    pub code_type: Option<TypeParam>,
    /// Must equal the code's.
    pub is_one_time_use: Option<bool>,
    /// Must equal the code's PIN.
    pub code: Option<String>,
    /// Must equal the code's device.
    pub device_id: Option<String>,
    /// Must be `true` or absent.
    pub is_offline_access_code: Option<bool>,
    /// Deprecated name of `is_offline_access_code`: `true` or absent.
    pub use_offline_access_code: Option<bool>,
    /// Older SDKs send the create fields with an update; accepted, and
    /// ignored: the window never moves, so nothing is rounded again.
    pub max_time_rounding: Option<MaxTimeRounding>,
    /// Must equal the code's PIN length, or be absent (older SDKs send
    /// it): an offline PIN's length never changes.
    #[schema(minimum = 1, maximum = 255)]
    pub preferred_code_length: Option<u32>,
    /// Must be `true` or absent (an offline code stays managed).
    pub is_managed: Option<bool>,
    /// Must be `false` or absent.
    pub allow_external_modification: Option<bool>,
    /// Must be `false` or absent.
    pub is_external_modification_allowed: Option<bool>,
    /// Must be `true` or absent.
    pub prefer_native_scheduling: Option<bool>,
    /// Accepted and ignored.
    pub attempt_for_offline_device: Option<bool>,
    /// Must be `false` or absent.
    pub use_backup_access_code_pool: Option<bool>,
}

impl UpdateRequest {
    /// The older SDKs' fields of an update, each accepted only with the
    /// value an offline code has.
    fn check_older_fields(&self) -> Result<(), RequestError> {
        let must = |field, value: Option<bool>, want: bool, why: &str| match value {
            Some(v) if v != want => Err(refuse(field, why)),
            _ => Ok(()),
        };
        must(
            "use_offline_access_code",
            self.use_offline_access_code,
            true,
            "an offline code cannot become an online one",
        )?;
        must(
            "is_managed",
            self.is_managed,
            true,
            "an offline code is managed by this server for as long as the lock can open for it",
        )?;
        for (field, value) in [
            (
                "allow_external_modification",
                self.allow_external_modification,
            ),
            (
                "is_external_modification_allowed",
                self.is_external_modification_allowed,
            ),
            (
                "use_backup_access_code_pool",
                self.use_backup_access_code_pool,
            ),
        ] {
            must(field, value, false, "not offered for offline codes")?;
        }
        must(
            "prefer_native_scheduling",
            self.prefer_native_scheduling,
            true,
            "an offline code is always scheduled on the lock",
        )
    }

    /// The library's update.
    ///
    /// # Errors
    ///
    /// [`RequestError::Invalid`] naming the field: an unparsable time, an
    /// online code asked for.
    pub fn parse(&self) -> Result<CodeUpdate, RequestError> {
        if self.is_offline_access_code == Some(false) {
            return Err(refuse(
                "is_offline_access_code",
                "an offline code cannot become an online one",
            ));
        }
        self.check_older_fields()?;
        let opt_time = |field, v: &Option<Option<String>>| {
            v.as_ref().map(|t| time(field, t.as_deref())).transpose()
        };
        Ok(CodeUpdate {
            name: self.name.clone(),
            starts_at: opt_time("starts_at", &self.starts_at)?,
            ends_at: opt_time("ends_at", &self.ends_at)?,
            code_type: self.code_type.map(|t| match t {
                TypeParam::Ongoing => CodeType::Ongoing,
                TypeParam::TimeBound => CodeType::TimeBound,
            }),
            is_one_time_use: self.is_one_time_use,
            code: self.code.clone(),
            device_id: self.device_id.clone(),
            code_length: self
                .preferred_code_length
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        })
    }
}

/// `/devices/get`.
#[derive(Clone, Debug, Default, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeviceGetRequest {
    /// The device.
    #[schema(example = "front-door")]
    #[param(example = "front-door")]
    pub device_id: String,
}

/// `/devices/list`: every device, or those the filters name; every
/// filter given must match. The hosted API's filters that need what an
/// offline lock does not have (connected accounts, webviews, custom
/// metadata, creation times, spaces) are refused as unknown fields.
#[derive(Clone, Debug, Default, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeviceListRequest {
    /// Only these devices.
    #[serde(default)]
    pub device_ids: Vec<String>,
    /// Only devices of this type: every device here is an
    /// `offpin_lock`, so another type lists none.
    pub device_type: Option<String>,
    /// Only devices of one of these types (see `device_type`).
    #[serde(default)]
    pub device_types: Vec<String>,
    /// Only devices of this manufacturer: `offpin` lists every device,
    /// another none.
    pub manufacturer: Option<String>,
    /// Devices whose id contains this text (ASCII letters in either case).
    pub search: Option<String>,
    /// Most devices on a page (1 to 10000); without it, every device.
    #[schema(minimum = 1, maximum = 10_000)]
    #[param(minimum = 1, maximum = 10_000)]
    pub limit: Option<u32>,
    /// The previous page's `pagination.next_page_cursor`, unchanged, with
    /// the same filters (devices are paged by id).
    pub page_cursor: Option<String>,
}

/// The `device_type` of every device of this server.
pub const OFFPIN_DEVICE_TYPE: &str = "offpin_lock";
/// The `manufacturer` of every device of this server.
pub const OFFPIN_MANUFACTURER: &str = "offpin";

impl DeviceListRequest {
    /// The ledger's device filter, or `None` when the type or
    /// manufacturer asked for is not this server's (no device matches).
    pub fn filter(&self) -> Option<DeviceFilter> {
        let ours = |t: &String| t == OFFPIN_DEVICE_TYPE;
        let type_ok = self.device_type.as_ref().is_none_or(ours)
            && (self.device_types.is_empty() || self.device_types.iter().any(ours));
        let maker_ok = self
            .manufacturer
            .as_ref()
            .is_none_or(|m| m == OFFPIN_MANUFACTURER);
        (type_ok && maker_ok).then(|| DeviceFilter {
            device_ids: self.device_ids.clone(),
            search: self.search.clone(),
        })
    }

    /// The parameters as query pairs, without `page_cursor`.
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs: Vec<(&'static str, String)> = Vec::new();
        pairs.extend(self.device_ids.iter().map(|d| ("device_ids", d.clone())));
        pairs.extend(self.device_type.iter().map(|t| ("device_type", t.clone())));
        pairs.extend(
            self.device_types
                .iter()
                .map(|t| ("device_types", t.clone())),
        );
        let one = [
            ("limit", self.limit.map(|n| n.to_string())),
            ("manufacturer", self.manufacturer.clone()),
            ("search", self.search.clone()),
        ];
        pairs.extend(one.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        pairs
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn query_strings_as_the_sdks_send_them() {
        // The Python SDK: sorted keys, repeated array keys, `_strict`.
        let l: ListRequest = decode(
            Some("access_code_ids=a&access_code_ids=b&_strict=true"),
            b"",
        )
        .unwrap();
        assert_eq!(l.access_code_ids, ["a", "b"]);
        // An empty array and an explicit null are empty values.
        let l: ListRequest = decode(Some("access_code_ids=&device_id=d"), b"").unwrap();
        assert!(l.access_code_ids.is_empty());
        assert_eq!(l.device_id.as_deref(), Some("d"));
        // Booleans and numbers from text.
        let c: CreateRequest = decode(
            Some("device_id=d&is_one_time_use=true&preferred_code_length=10"),
            b"",
        )
        .unwrap();
        assert_eq!(c.is_one_time_use, Some(true));
        assert_eq!(c.preferred_code_length, Some(10));
        let e =
            decode::<CreateRequest>(Some("device_id=d&is_one_time_use=maybe"), b"").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("is_one_time_use"));
        // Unknown keys, both places at once.
        let e = decode::<GetRequest>(Some("id=1"), b"").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("id"));
        // Found by the fuzz target: a parameter without a name.
        let e = decode::<UpdateRequest>(Some("=_6"), b"").unwrap_err();
        assert_eq!(e.field, None);
        assert!(e.message.starts_with("unknown field"), "{e}");
        let e = decode::<GetRequest>(Some("access_code_id=1"), br#"{"access_code_id":"1"}"#)
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("access_code_id"));
    }

    #[test]
    fn json_errors_name_the_field() {
        let e = decode::<CreateRequest>(None, br#"{"device_id": 5}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("device_id"));
        let e = decode::<CreateRequest>(None, br#"{"name": "x"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("device_id"));
        assert!(e.message.starts_with("missing field"), "{e}");
        let e = decode::<CreateRequest>(None, br#"{"device_id": "d"} trailing"#).unwrap_err();
        assert_eq!(e.field, None);
        let e = decode::<UpdateRequest>(None, br#"{"access_code_id": "a", "name": null}"#);
        assert_eq!(e.unwrap().name, Some(None));
    }
}
