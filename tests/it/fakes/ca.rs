//! A private certificate authority for tests: a root, and leaf
//! certificates it signs, written as PEM files the way an operator's CA
//! tooling would leave them.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pub root_pem: String,
}

/// A leaf certificate and its key, as written to disk.
pub struct Leaf {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub der: Vec<u8>,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, format!("{name} test root"));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("key");
        let root = params.self_signed(&key).expect("root");
        TestCa {
            root_pem: root.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// Signs a certificate for `names` (DNS names or IP addresses) and
    /// writes it and its key as `{stem}.pem` and `{stem}.key` in `dir`.
    pub fn leaf(&self, dir: &Path, stem: &str, names: &[&str]) -> Leaf {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let params = CertificateParams::new(names).expect("params");
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.issuer).expect("sign");
        let leaf = Leaf {
            cert: dir.join(format!("{stem}.pem")),
            key: dir.join(format!("{stem}.key")),
            der: cert.der().to_vec(),
        };
        std::fs::write(&leaf.cert, cert.pem()).expect("write cert");
        std::fs::write(&leaf.key, key.serialize_pem()).expect("write key");
        leaf
    }

    /// Writes the root certificate to `dir/root.pem`.
    pub fn write_root(&self, dir: &Path) -> PathBuf {
        let path = dir.join("root.pem");
        std::fs::write(&path, &self.root_pem).expect("write root");
        path
    }
}
