//! `offpin workspace`, and `--workspace` on `api-key create`, `device
//! add` and `group create`: what each prints, what the ledger refuses
//! (unknown or malformed workspaces, devices and groups that would mix),
//! and that commands without the flag act in `default`.

use crate::util::env::{DEVICE, Env, fails, s};

#[test]
fn workspaces_own_their_devices_groups_and_keys() {
    let env = Env::new();
    let w = env.json(&["workspace", "create", "--workspace-id", "acme"]);
    assert_eq!(w["workspace_id"], "acme");
    assert_eq!(w["created"], true);
    let again = env.json(&["workspace", "create", "--workspace-id", "acme"]);
    assert_eq!(again["created"], false);
    assert_eq!(again["created_at"], w["created_at"]);
    fails(
        &env,
        &["workspace", "create", "--workspace-id", "a b"],
        1,
        "invalid workspace id 'a b': 1 to 64 bytes of ASCII letters, digits, '-', '_' and '.'",
    );
    let d = env.json(&[
        "device",
        "add",
        "--device-id",
        "acme-door",
        "--utc-offset",
        "+00:00",
        "--workspace",
        "acme",
    ]);
    assert_eq!(d["workspace_id"], "acme");
    fails(
        &env,
        &[
            "device",
            "add",
            "--device-id",
            "x",
            "--utc-offset",
            "+00:00",
            "--workspace",
            "nope",
        ],
        1,
        "unknown workspace 'nope' (create it with `offpin workspace create`)",
    );
    // The same id in another workspace: refused, naming both.
    fails(
        &env,
        &[
            "device",
            "add",
            "--device-id",
            DEVICE,
            "--utc-offset",
            "+01:00",
            "--workspace",
            "acme",
        ],
        1,
        "device 'front-door' belongs to workspace 'default', not 'acme': a workspace's devices, groups and keys never mix",
    );
    let g = env.json(&[
        "group",
        "create",
        "--group-id",
        "acme-g",
        "--workspace",
        "acme",
    ]);
    assert_eq!(g["workspace_id"], "acme");
    fails(
        &env,
        &[
            "group",
            "add",
            "--group-id",
            "acme-g",
            "--device-id",
            DEVICE,
        ],
        1,
        "device 'front-door' belongs to workspace 'default', not 'acme': a workspace's devices, groups and keys never mix",
    );
    env.ok(&[
        "group",
        "add",
        "--group-id",
        "acme-g",
        "--device-id",
        "acme-door",
    ]);
    // Keys: in a workspace, or in default without the flag.
    let out = env.ok(&[
        "api-key",
        "create",
        "--name",
        "acme-ci",
        "--workspace",
        "acme",
    ]);
    assert!(out.starts_with("created API key 'acme-ci' (id "), "{out}");
    assert!(
        out.contains(", workspace 'acme'); it is shown once"),
        "{out}"
    );
    let out = env.ok(&["api-key", "create", "--name", "ops"]);
    assert!(out.contains(", workspace 'default');"), "{out}");
    fails(
        &env,
        &["api-key", "create", "--name", "x", "--workspace", "nope"],
        1,
        "unknown workspace 'nope' (create it with `offpin workspace create`)",
    );
    let keys = env.json(&["api-key", "list"]);
    let by_name: Vec<(&str, &str)> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (s(&k["name"]), s(&k["workspace_id"])))
        .collect();
    assert_eq!(by_name, [("acme-ci", "acme"), ("ops", "default")]);
    let devices = env.json(&["device", "list"]);
    let owners: Vec<(&str, &str)> = devices
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (s(&d["device_id"]), s(&d["workspace_id"])))
        .collect();
    assert_eq!(owners, [("acme-door", "acme"), (DEVICE, "default")]);
    let list = env.json(&["workspace", "list"]);
    let rows: Vec<(&str, u64, u64, u64)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                s(&r["workspace_id"]),
                r["devices"].as_u64().unwrap(),
                r["groups"].as_u64().unwrap(),
                r["api_keys"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, [("acme", 1, 1, 1), ("default", 1, 0, 1)]);
}

#[test]
fn workspace_commands_have_help() {
    let env = Env::bare();
    for sub in [
        vec!["workspace"],
        vec!["workspace", "create"],
        vec!["workspace", "list"],
    ] {
        let mut args = sub.clone();
        args.push("--help");
        let out = env.ok(&args);
        assert!(
            out.contains(&format!("Usage: offpin {}", sub.join(" "))),
            "{sub:?}: {out}"
        );
    }
    let help = env.ok(&["api-key", "create", "--help"]);
    assert!(help.contains("--workspace <WORKSPACE>"), "{help}");
    assert!(help.contains("[default: default]"), "{help}");
}
