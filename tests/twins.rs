//! CloudFormation and Terraform twins: every CloudFormation rule and every Terraform AWS rule is
//! listed in `data/twins.tsv`, with its twin or the reason none can exist, and twins map to the
//! same Annex A controls with the same relations.

use isms_lint::docs::{twin_problems, twins};
use isms_lint::rules::{builtin_sources, RuleSet};

fn builtin() -> RuleSet {
    let set = RuleSet::load(builtin_sources());
    assert!(set.errors.is_empty(), "{:#?}", set.errors);
    set
}

#[test]
fn every_cloudformation_and_terraform_aws_rule_has_its_twin_with_the_same_controls() {
    let set = builtin();
    let problems = twin_problems(&set);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let pairs: Vec<String> = twins()
        .into_iter()
        .filter_map(|t| Some(format!("{} <-> {}", t.cloudformation?, t.terraform?)))
        .collect();
    assert!(
        pairs.len() >= 60,
        "{} twins:\n{}",
        pairs.len(),
        pairs.join("\n")
    );
}

fn with_replaced(path_end: &str, from: &str, to: &str) -> RuleSet {
    let mut sources = builtin_sources();
    let src = sources
        .iter_mut()
        .find(|s| s.path.ends_with(path_end))
        .expect("the rule exists");
    assert!(src.text.contains(from), "{path_end} holds '{from}'");
    src.text = src.text.replacen(from, to, 1);
    let set = RuleSet::load(sources);
    assert!(set.errors.is_empty(), "{:#?}", set.errors);
    set
}

#[test]
fn a_relation_or_control_that_differs_between_twins_is_reported() {
    let set = with_replaced(
        "cfn-efs-encrypted.yaml",
        "relation: partial",
        "relation: full",
    );
    let problems = twin_problems(&set);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("twins map to different controls")
                && p.contains("cfn-efs-encrypted")),
        "{problems:?}"
    );

    let set = with_replaced("tf-aws-efs-encrypted.yaml", "id: \"8.24\"", "id: \"8.20\"");
    assert!(
        twin_problems(&set)
            .iter()
            .any(|p| p.contains("tf-aws-efs-encrypted")),
        "a different control id is a mismatch"
    );
}

#[test]
fn a_rule_missing_from_the_table_is_reported() {
    let mut sources = builtin_sources();
    let base = sources
        .iter()
        .find(|s| s.path.ends_with("cfn-efs-encrypted.yaml"))
        .expect("the rule exists")
        .clone();
    sources.push(isms_lint::rules::RuleSourceFile {
        path: base
            .path
            .replace("cfn-efs-encrypted", "cfn-efs-encrypted-copy"),
        text: base
            .text
            .replace("id: cfn-efs-encrypted", "id: cfn-efs-encrypted-copy"),
        builtin: true,
    });
    let set = RuleSet::load(sources);
    assert!(set.errors.is_empty(), "{:#?}", set.errors);
    let problems = twin_problems(&set);
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("cfn-efs-encrypted-copy is not in data/twins.tsv")),
        "{problems:?}"
    );
}
