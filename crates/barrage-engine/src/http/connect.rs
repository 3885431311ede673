//! Opening connections: TCP (with a timeout), TLS by rustls when the origin asks for it,
//! and the HTTP/1.1 handshake whose connection task runs on the worker's own runtime.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;

use super::{ConnectTiming, Origin, RequestError, Scheme};

/// Opens connections for the users of one worker.
#[derive(Clone)]
pub struct Connector {
    pub connect_timeout: Duration,
    tls: Arc<rustls::ClientConfig>,
}

impl Connector {
    pub fn new(connect_timeout: Duration, tls: Arc<rustls::ClientConfig>) -> Connector {
        Connector {
            connect_timeout,
            tls,
        }
    }

    /// Connects, and spawns the connection's task on the current (worker-local) runtime.
    pub async fn connect(
        &self,
        origin: &Origin,
    ) -> Result<(SendRequest<Full<Bytes>>, ConnectTiming), RequestError> {
        let started = Instant::now();
        let tcp = tokio::time::timeout(
            self.connect_timeout,
            TcpStream::connect((origin.host.as_str(), origin.port)),
        )
        .await
        .map_err(|_| RequestError::ConnectTimeout(origin.to_string(), self.connect_timeout))?
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::ConnectionRefused => RequestError::Refused(origin.to_string()),
            _ => RequestError::Connect(origin.to_string(), e),
        })?;
        // Requests are small and latency is what we measure: don't let Nagle hold them.
        let _ = tcp.set_nodelay(true);
        let connected = Instant::now();
        match origin.scheme {
            Scheme::Http => {
                let sender = handshake(TokioIo::new(tcp), origin).await?;
                let timing = ConnectTiming {
                    connect: connected - started,
                    tls: None,
                };
                Ok((sender, timing))
            }
            Scheme::Https => {
                let name = ServerName::try_from(origin.host.clone())
                    .map_err(|e| RequestError::Invalid(format!("bad TLS server name: {e}")))?;
                let connector = tokio_rustls::TlsConnector::from(self.tls.clone());
                let remaining = self.connect_timeout.saturating_sub(connected - started);
                let tls = tokio::time::timeout(remaining, connector.connect(name, tcp))
                    .await
                    .map_err(|_| {
                        RequestError::ConnectTimeout(origin.to_string(), self.connect_timeout)
                    })?
                    .map_err(|e| RequestError::Tls(origin.to_string(), e))?;
                let secured = Instant::now();
                let sender = handshake(TokioIo::new(tls), origin).await?;
                let timing = ConnectTiming {
                    connect: connected - started,
                    tls: Some(secured - connected),
                };
                Ok((sender, timing))
            }
        }
    }
}

async fn handshake<T>(io: T, origin: &Origin) -> Result<SendRequest<Full<Bytes>>, RequestError>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + 'static,
{
    let (sender, conn) = http1::Builder::new()
        .handshake(io)
        .await
        .map_err(|e| RequestError::Connect(origin.to_string(), std::io::Error::other(e)))?;
    // The connection task ends when the server closes or the sender is dropped; its
    // errors surface through the sender, so the result here carries nothing new.
    tokio::task::spawn_local(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// The TLS client configuration: the system's root certificates, or none checked at all
/// with `insecure` (for self-signed test servers).
pub fn tls_config(insecure: bool) -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let mut config = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
            .with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        let found = rustls_native_certs::load_native_certs();
        for cert in found.certs {
            // A system store can hold certificates rustls rejects; skipping them is what
            // every client does.
            let _ = roots.add(cert);
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
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
