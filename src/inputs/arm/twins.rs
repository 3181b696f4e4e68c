//! ARM rules and their Terraform twins: every `arm-*` rule judges the same setting as one
//! `tf-azure-*` rule, and twins map to the same Annex A controls with the same relations.
//! Every built-in ARM rule and every `tf-azure-*` rule is listed exactly once.

// Test code only (the module is declared `#[cfg(test)]`), so it may use any module.
#[cfg(test)]
use std::collections::BTreeMap;

use crate::rules::{builtin_sources, Rule, RuleSet, RuleSourceFile};

/// `(ARM rule, its Terraform twin)`.
const TWINS: &[(&str, &str)] = &[
    (
        "arm-activity-log-alert-action",
        "tf-azure-activity-log-alert-action",
    ),
    (
        "arm-aks-api-server-access",
        "tf-azure-aks-api-server-access",
    ),
    ("arm-aks-audit-logs", "tf-azure-aks-audit-logs"),
    ("arm-aks-auto-upgrade", "tf-azure-aks-auto-upgrade"),
    ("arm-aks-azure-ad", "tf-azure-aks-azure-ad"),
    ("arm-aks-azure-policy", "tf-azure-aks-azure-policy"),
    ("arm-aks-defender", "tf-azure-aks-defender"),
    (
        "arm-aks-disk-encryption-set",
        "tf-azure-aks-disk-encryption-set",
    ),
    ("arm-aks-host-encryption", "tf-azure-aks-host-encryption"),
    (
        "arm-aks-local-accounts-disabled",
        "tf-azure-aks-local-accounts-disabled",
    ),
    ("arm-aks-network-policy", "tf-azure-aks-network-policy"),
    ("arm-aks-node-public-ip", "tf-azure-aks-node-public-ip"),
    ("arm-aks-private-cluster", "tf-azure-aks-private-cluster"),
    ("arm-aks-rbac", "tf-azure-aks-rbac"),
    (
        "arm-apim-diagnostic-header-masking",
        "tf-azure-apim-diagnostic-header-masking",
    ),
    ("arm-app-gateway-waf", "tf-azure-app-gateway-waf"),
    (
        "arm-app-service-cors-wildcard",
        "tf-azure-app-service-cors-wildcard",
    ),
    ("arm-app-service-ftps", "tf-azure-app-service-ftps"),
    (
        "arm-app-service-https-only",
        "tf-azure-app-service-https-only",
    ),
    (
        "arm-app-service-managed-identity",
        "tf-azure-app-service-managed-identity",
    ),
    ("arm-app-service-min-tls", "tf-azure-app-service-min-tls"),
    (
        "arm-app-service-remote-debugging",
        "tf-azure-app-service-remote-debugging",
    ),
    (
        "arm-container-registry-admin-user",
        "tf-azure-container-registry-admin-user",
    ),
    (
        "arm-container-registry-anonymous-pull",
        "tf-azure-container-registry-anonymous-pull",
    ),
    (
        "arm-container-registry-public-network-access",
        "tf-azure-container-registry-public-network-access",
    ),
    ("arm-cosmosdb-cmk", "tf-azure-cosmosdb-cmk"),
    (
        "arm-cosmosdb-local-auth-disabled",
        "tf-azure-cosmosdb-local-auth-disabled",
    ),
    (
        "arm-cosmosdb-public-network-access",
        "tf-azure-cosmosdb-public-network-access",
    ),
    (
        "arm-db-public-network-access",
        "tf-azure-db-public-network-access",
    ),
    ("arm-db-ssl-enforcement", "tf-azure-db-ssl-enforcement"),
    (
        "arm-defender-standard-tier",
        "tf-azure-defender-standard-tier",
    ),
    (
        "arm-keyvault-diagnostic-logs",
        "tf-azure-keyvault-diagnostic-logs",
    ),
    (
        "arm-keyvault-key-expiration",
        "tf-azure-keyvault-key-expiration",
    ),
    (
        "arm-keyvault-key-rotation-policy",
        "tf-azure-keyvault-key-rotation-policy",
    ),
    (
        "arm-keyvault-network-acls",
        "tf-azure-keyvault-network-acls",
    ),
    (
        "arm-keyvault-purge-protection",
        "tf-azure-keyvault-purge-protection",
    ),
    (
        "arm-keyvault-rbac-authorization",
        "tf-azure-keyvault-rbac-authorization",
    ),
    (
        "arm-keyvault-secret-expiration",
        "tf-azure-keyvault-secret-expiration",
    ),
    (
        "arm-keyvault-soft-delete-retention",
        "tf-azure-keyvault-soft-delete-retention",
    ),
    (
        "arm-log-analytics-retention",
        "tf-azure-log-analytics-retention",
    ),
    (
        "arm-mysql-secure-transport",
        "tf-azure-mysql-secure-transport",
    ),
    (
        "arm-network-watcher-flow-log-retention",
        "tf-azure-network-watcher-flow-log-retention",
    ),
    (
        "arm-nsg-admin-ports-open-to-internet",
        "tf-azure-nsg-admin-ports-open-to-internet",
    ),
    (
        "arm-nsg-all-ports-open-to-internet",
        "tf-azure-nsg-all-ports-open-to-internet",
    ),
    (
        "arm-nsg-database-ports-open-to-internet",
        "tf-azure-nsg-database-ports-open-to-internet",
    ),
    (
        "arm-nsg-udp-open-to-internet",
        "tf-azure-nsg-udp-open-to-internet",
    ),
    (
        "arm-postgresql-log-settings",
        "tf-azure-postgresql-log-settings",
    ),
    (
        "arm-postgresql-secure-transport",
        "tf-azure-postgresql-secure-transport",
    ),
    ("arm-redis-min-tls", "tf-azure-redis-min-tls"),
    ("arm-redis-non-ssl-port", "tf-azure-redis-non-ssl-port"),
    (
        "arm-redis-public-network-access",
        "tf-azure-redis-public-network-access",
    ),
    (
        "arm-security-center-contact-alerts",
        "tf-azure-security-center-contact-alerts",
    ),
    ("arm-sql-audit-retention", "tf-azure-mssql-audit-retention"),
    ("arm-sql-azuread-admin", "tf-azure-mssql-azuread-admin"),
    ("arm-sql-data-masking", "tf-azure-sql-data-masking"),
    ("arm-sql-database-tde", "tf-azure-mssql-database-tde"),
    ("arm-sql-defender", "tf-azure-mssql-defender"),
    (
        "arm-sql-firewall-allow-azure-services",
        "tf-azure-sql-firewall-allow-azure-services",
    ),
    (
        "arm-sql-firewall-open-to-internet",
        "tf-azure-sql-firewall-open-to-internet",
    ),
    ("arm-sql-min-tls", "tf-azure-mssql-min-tls"),
    (
        "arm-sql-public-network-access",
        "tf-azure-mssql-public-network-access",
    ),
    ("arm-sql-server-auditing", "tf-azure-mssql-server-auditing"),
    (
        "arm-storage-blob-soft-delete",
        "tf-azure-storage-blob-soft-delete",
    ),
    ("arm-storage-cmk", "tf-azure-storage-cmk"),
    (
        "arm-storage-container-public",
        "tf-azure-storage-container-public",
    ),
    (
        "arm-storage-cross-tenant-replication",
        "tf-azure-storage-cross-tenant-replication",
    ),
    ("arm-storage-https-only", "tf-azure-storage-https-only"),
    (
        "arm-storage-infrastructure-encryption",
        "tf-azure-storage-infrastructure-encryption",
    ),
    ("arm-storage-min-tls", "tf-azure-storage-min-tls"),
    (
        "arm-storage-network-default-deny",
        "tf-azure-storage-network-default-deny",
    ),
    (
        "arm-storage-public-blob-access",
        "tf-azure-storage-public-nested-items",
    ),
    (
        "arm-storage-shared-key-disabled",
        "tf-azure-storage-shared-key-disabled",
    ),
    (
        "arm-vm-encryption-at-host",
        "tf-azure-vm-encryption-at-host",
    ),
    (
        "arm-vm-password-authentication",
        "tf-azure-vm-password-authentication",
    ),
    ("arm-waf-prevention-mode", "tf-azure-waf-prevention-mode"),
];

/// What is wrong with the twin list for `set`: a rule missing from it or listed twice, a
/// listed rule that does not exist, twins whose controls or relations differ.
fn problems(set: &RuleSet) -> Vec<String> {
    let by_id: BTreeMap<&str, &Rule> = set.rules.iter().map(|r| (r.id.as_str(), r)).collect();
    let links = |r: &Rule| {
        let mut v: Vec<(String, &'static str)> = r
            .controls
            .iter()
            .map(|l| (l.id.clone(), l.relation.as_str()))
            .collect();
        v.sort();
        v
    };
    let mut out = Vec::new();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (arm, tf) in TWINS {
        *seen.entry(arm).or_default() += 1;
        *seen.entry(tf).or_default() += 1;
        match (by_id.get(arm), by_id.get(tf)) {
            (Some(a), Some(t)) if links(a) != links(t) => out.push(format!(
                "twins map to different controls: {arm} {:?}, {tf} {:?}",
                links(a),
                links(t)
            )),
            (Some(_), Some(_)) => {}
            _ => out.push(format!("no rule '{arm}' or '{tf}'")),
        }
    }
    for r in &set.rules {
        let listed = r.id.starts_with("arm-") || r.id.starts_with("tf-azure-");
        match seen.get(r.id.as_str()) {
            None if listed => out.push(format!("{} has no twin in arm/twins.rs", r.id)),
            Some(n) if *n > 1 => out.push(format!("{} is listed {n} times", r.id)),
            _ => {}
        }
    }
    out
}

fn load(sources: Vec<RuleSourceFile>) -> RuleSet {
    let set = RuleSet::load(sources);
    assert!(set.errors.is_empty(), "{:#?}", set.errors);
    set
}

#[test]
fn every_arm_rule_has_its_terraform_twin_with_the_same_controls() {
    let set = load(builtin_sources());
    let problems = problems(&set);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let arm = set
        .rules
        .iter()
        .filter(|r| r.id.starts_with("arm-"))
        .count();
    assert_eq!(arm, TWINS.len());
    assert!(arm >= 31, "{arm} ARM rules");
}

#[test]
fn a_different_relation_or_an_unlisted_rule_is_reported() {
    let mut sources = builtin_sources();
    let src = sources
        .iter_mut()
        .find(|s| s.path.ends_with("arm-keyvault-purge-protection.yaml"))
        .expect("the rule exists");
    src.text = src
        .text
        .replacen("relation: supports", "relation: partial", 1);
    let copy = RuleSourceFile {
        path: src
            .path
            .replace("purge-protection", "purge-protection-copy"),
        text: src.text.replace(
            "id: arm-keyvault-purge-protection",
            "id: arm-keyvault-purge-protection-copy",
        ),
        builtin: true,
    };
    sources.push(copy);
    let problems = problems(&load(sources));
    assert_eq!(
        problems,
        [
            "twins map to different controls: arm-keyvault-purge-protection \
             [(\"8.13\", \"partial\"), (\"8.24\", \"partial\")], tf-azure-keyvault-purge-protection \
             [(\"8.13\", \"supports\"), (\"8.24\", \"partial\")]",
            "arm-keyvault-purge-protection-copy has no twin in arm/twins.rs",
        ]
    );
}
