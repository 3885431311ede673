//! The TLS client configuration of a run, built when the first TLS connection needs it.
//!
//! Loading the system's root certificates (`rustls_native_certs`: reading and decoding
//! every PEM file of the system's store) cost about 18 million instructions, as many as
//! 2,000 plain-HTTP requests, and a run against an `http://` target paid it at start for
//! nothing. So [`Tls`] checks at start only what can fail (the crypto provider's protocol
//! versions) and builds the configuration, roots included, on first use: once per process,
//! since every worker's [`Connector`](super::Connector) shares one [`Tls`]. A run that may
//! speak TLS from its first request asks for it before its clock starts ([`Tls::prepare`]),
//! so its first connection's TLS time stays the handshake's alone.

use std::sync::{Arc, OnceLock};

use rustls::client::WantsClientCert;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ConfigBuilder, WantsVerifier};

use super::HttpVersion;

/// Why the TLS client configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TlsError(#[from] rustls::Error);

/// The TLS client configuration for HTTP/1.1 alone (ALPN offers `http/1.1`): the system's
/// root certificates, or none checked at all with `insecure` (for self-signed test servers).
pub fn tls_config(insecure: bool) -> Result<Arc<Tls>, TlsError> {
    tls_config_for(insecure, HttpVersion::Http1)
}

/// The TLS client configuration whose ALPN offers what `http` asks for: `http/1.1`, `h2`
/// and `http/1.1` (the server picks), or `h2` alone.
pub fn tls_config_for(insecure: bool, http: HttpVersion) -> Result<Arc<Tls>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    Ok(Arc::new(Tls {
        builder,
        provider,
        insecure,
        http,
        offered: OnceLock::new(),
        http1: OnceLock::new(),
    }))
}

/// A run's TLS client configuration, built on first use (see the module's comment).
pub struct Tls {
    /// The part that can fail, done at start.
    builder: ConfigBuilder<ClientConfig, WantsVerifier>,
    provider: Arc<rustls::crypto::CryptoProvider>,
    insecure: bool,
    /// What ALPN offers on the run's connections.
    http: HttpVersion,
    offered: OnceLock<Arc<ClientConfig>>,
    /// The same offering `http/1.1` alone, for what needs HTTP/1.1 whatever the run asks
    /// (a WebSocket's upgrade); built from `offered`, so the roots are loaded once.
    http1: OnceLock<Arc<ClientConfig>>,
}

impl Tls {
    /// Builds the configuration now (loading the root certificates unless `insecure`), so
    /// that no connection of the run waits for it.
    pub fn prepare(&self) {
        self.offered();
    }

    /// The configuration whose ALPN offers what the run asks for.
    pub fn offered(&self) -> Arc<ClientConfig> {
        self.offered
            .get_or_init(|| {
                let mut config = self.verifying(self.builder.clone()).with_no_client_auth();
                config.alpn_protocols = match self.http {
                    HttpVersion::Http1 => vec![b"http/1.1".to_vec()],
                    HttpVersion::Negotiated => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
                    HttpVersion::Http2 => vec![b"h2".to_vec()],
                };
                Arc::new(config)
            })
            .clone()
    }

    /// The configuration whose ALPN offers `http/1.1` alone: the run's own when it is
    /// HTTP/1.1 already, otherwise a copy of it (sharing its root certificates).
    pub fn http1(&self) -> Arc<ClientConfig> {
        if self.http == HttpVersion::Http1 {
            return self.offered();
        }
        self.http1
            .get_or_init(|| {
                let mut config = (*self.offered()).clone();
                config.alpn_protocols = vec![b"http/1.1".to_vec()];
                Arc::new(config)
            })
            .clone()
    }

    /// The server certificate check: the system's root certificates, or none (`insecure`).
    fn verifying(
        &self,
        builder: ConfigBuilder<ClientConfig, WantsVerifier>,
    ) -> ConfigBuilder<ClientConfig, WantsClientCert> {
        if self.insecure {
            return builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(self.provider.clone())));
        }
        let mut roots = rustls::RootCertStore::empty();
        let found = rustls_native_certs::load_native_certs();
        for cert in found.certs {
            // A system store can hold certificates rustls rejects; skipping them is what
            // every client does.
            let _ = roots.add(cert);
        }
        builder.with_root_certificates(roots)
    }
}

/// `--insecure`: accepts any certificate, still checks handshake signatures are well formed.
#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_is_built_on_first_use_and_once() {
        for insecure in [true, false] {
            let tls = tls_config_for(insecure, HttpVersion::Negotiated).unwrap();
            assert!(
                tls.offered.get().is_none(),
                "nothing built before a TLS connection"
            );
            let offered = tls.offered();
            assert_eq!(
                offered.alpn_protocols,
                [b"h2".to_vec(), b"http/1.1".to_vec()]
            );
            assert!(Arc::ptr_eq(&offered, &tls.offered()));
            let http1 = tls.http1();
            assert_eq!(http1.alpn_protocols, [b"http/1.1".to_vec()]);
            assert!(Arc::ptr_eq(&http1, &tls.http1()));
        }
    }

    #[test]
    fn a_run_of_http1_alone_offers_it_with_one_configuration() {
        let tls = tls_config(false).unwrap();
        assert_eq!(tls.offered().alpn_protocols, [b"http/1.1".to_vec()]);
        assert!(Arc::ptr_eq(&tls.offered(), &tls.http1()));
        assert!(tls.http1.get().is_none());
        let h2 = tls_config_for(false, HttpVersion::Http2).unwrap();
        assert_eq!(h2.offered().alpn_protocols, [b"h2".to_vec()]);
    }
}
