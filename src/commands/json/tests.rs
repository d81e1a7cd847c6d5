use super::*;

/// The schemas kept in `schemas/` (and shipped) are what the types say: a change to a
/// document's shape shows in the schema's diff, where its version is decided.
/// `EMBER_UPDATE_SCHEMAS=1 cargo test schemas_are_current` writes them.
#[test]
fn schemas_are_current() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    let update = std::env::var_os("EMBER_UPDATE_SCHEMAS").is_some();
    for (file, schema) in schemas() {
        let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        let path = dir.join(file);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let kept = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            kept == text,
            "{} is not what the types say: run EMBER_UPDATE_SCHEMAS=1 cargo test schemas_are_current, and decide whether FORMAT_VERSION changes",
            path.display()
        );
    }
}

#[test]
fn every_document_names_its_format_and_version() {
    for (file, schema) in schemas() {
        let props = &schema["properties"];
        assert!(props["format"].is_object(), "{file}");
        assert!(props["format_version"].is_object(), "{file}");
        let required = schema["required"].as_array().unwrap();
        for k in ["format", "format_version", "ok", "error"] {
            assert!(required.iter().any(|r| r == k), "{file} requires {k}");
        }
    }
}

#[test]
fn a_failed_command_still_prints_its_document() {
    let f = || Failure {
        error: "no backend \"x\"".into(),
        problems: vec![],
    };
    for v in [
        serde_json::to_value(PlanDoc::failed(f())).unwrap(),
        serde_json::to_value(ApplyDoc::failed(f())).unwrap(),
        serde_json::to_value(StatusDoc::failed(f())).unwrap(),
    ] {
        assert_eq!(v["ok"], false, "{v}");
        assert_eq!(v["error"], "no backend \"x\"", "{v}");
        assert_eq!(v["format_version"], FORMAT_VERSION, "{v}");
        assert_eq!(v["backends"], serde_json::json!([]), "{v}");
    }
}
