"""A throwaway certificate authority for the signature tests: a root, and PKCS#12 files for signatories it issues
(and one it does not, for "untrusted"). Real keys and certificates made with `cryptography`; nothing is downloaded."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PASSPHRASE = "correct horse battery staple"


def _name(common: str, email: str | None = None, organisation: str = "Clauseflow Test CA") -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common), x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation)]
    if email:
        attributes.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    return x509.Name(attributes)


class TestAuthority:
    __test__ = False  # not a pytest class

    def __init__(self, folder: Path, name: str = "Clauseflow Test Root") -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(timezone.utc)
        self.certificate = (
            x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .sign(self.key, hashes.SHA256()))
        self.root_pem = folder / f"{name.replace(' ', '_').lower()}.pem"
        self.root_pem.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))

    def issue(self, file_stem: str, common_name: str, email: str | None = None,
              passphrase: str = PASSPHRASE) -> Path:
        """A PKCS#12 file with a signing key and its certificate (and this root as its chain)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(timezone.utc)
        certificate = (
            x509.CertificateBuilder().subject_name(_name(common_name, email, "Signatory"))
            .issuer_name(self.certificate.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .sign(self.key, hashes.SHA256()))
        path = self.folder / f"{file_stem}.p12"
        path.write_bytes(pkcs12.serialize_key_and_certificates(
            file_stem.encode(), key, certificate, [self.certificate],
            serialization.BestAvailableEncryption(passphrase.encode())))
        return path

    def issue_time_stamp_authority(self):
        """(certificate, key) of a time-stamp authority this root issues, as asn1crypto objects (pyHanko's test TSA
        signs with them)."""
        from asn1crypto import keys as asn1_keys
        from asn1crypto import x509 as asn1_x509

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = datetime.now(timezone.utc)
        certificate = (
            x509.CertificateBuilder().subject_name(_name("Clauseflow Test TSA")).issuer_name(self.certificate.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .sign(self.key, hashes.SHA256()))
        der_key = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        return (asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER)),
                asn1_keys.PrivateKeyInfo.load(der_key))
