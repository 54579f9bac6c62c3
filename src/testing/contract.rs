//! The scenario contract (`docs/scenario-format.md`) as the kit checks its own output against
//! it: by the runner's own loader, so there is one reader of the format in the crate.

use serde_json::Value;

/// `Ok` when `scenario` is a valid scenario file of the contract (every field known, every value of
/// the right shape, every alias, application and user introduced before use); otherwise the loader's
/// message, with the JSON pointer and what was expected.
pub fn validate(scenario: &Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(scenario).map_err(|e| e.to_string())?;
    crate::scenario::Scenario::parse(&text, "<generated scenario>")
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::validate;
    use serde_json::json;

    #[test]
    fn the_kit_validates_with_the_runners_loader() {
        let ok = json!({ "name": "n", "description": "T3", "steps": [
            { "do": "create_job", "name": "j", "bind": "j" },
            { "do": "resume", "job": "j", "expect": "BG_E_EMPTY" } ] });
        assert_eq!(validate(&ok), Ok(()));
        let unknown_alias = json!({ "name": "n", "description": "d", "steps": [
            { "do": "resume", "job": "nope" } ] });
        let e = validate(&unknown_alias).unwrap_err();
        assert!(e.contains("/steps/0/job") && e.contains("nope"), "{e}");
        let extra = json!({ "name": "n", "description": "d", "steps": [], "extra": 1 });
        assert!(validate(&extra).unwrap_err().contains("extra"));
    }
}
