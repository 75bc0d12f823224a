import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls'

/** The file formats of `ssl.keystore.type` and `ssl.truststore.type`, as Java spells them. */
export type StoreType = 'PEM' | 'PKCS12' | 'JKS'

/**
 * What TLS is configured with: the `ssl.*` configuration keys, camelCased, as plain data (paths,
 * PEM strings, passwords, switches). `loadTlsMaterial` reads and checks it once and turns it into
 * Node's `tls.ConnectionOptions`. Every field is optional: none at all means TLS with Node's bundled
 * CA certificates, host name checking and no client certificate.
 *
 * Trusted CAs are the union of `caLocation`, `caPem`, `truststoreLocation` and
 * `truststoreCertificates`; setting any of them replaces Node's bundled CAs, as in librdkafka and
 * Java. The client certificate comes from exactly one of: `certificate*` + `key*` (librdkafka),
 * `keystoreLocation` (a PKCS#12 or PEM file), or `keystoreKey` + `keystoreCertificateChain` (Java's
 * PEM strings).
 */
export interface TlsSettings {
  /** ssl.ca.location: a PEM file of CA certificates. `'probe'` (librdkafka) means Node's bundled CAs. */
  caLocation?: string
  /** ssl.ca.pem: CA certificates as a PEM string. */
  caPem?: string
  /** ssl.certificate.location: the client's PEM certificate (chain, leaf first). */
  certificateLocation?: string
  /** ssl.certificate.pem */
  certificatePem?: string
  /** ssl.key.location: the client's PEM private key, PKCS#8 or traditional, possibly encrypted. */
  keyLocation?: string
  /** ssl.key.pem */
  keyPem?: string
  /** ssl.key.password: decrypts the private key (of `key*`, or of a PEM keystore). */
  keyPassword?: string
  /** ssl.keystore.location: a PKCS#12 (or PEM) file with the client's key and certificate chain. */
  keystoreLocation?: string
  /** ssl.keystore.password */
  keystorePassword?: string
  /** ssl.keystore.type (Java). The file's content decides in the end; JKS cannot be read. */
  keystoreType?: StoreType
  /** ssl.keystore.key (Java, type PEM): the private key as a PEM string. */
  keystoreKey?: string
  /** ssl.keystore.certificate.chain (Java, type PEM): the certificate chain as a PEM string. */
  keystoreCertificateChain?: string
  /** ssl.truststore.location: CA certificates in a PEM file (PKCS#12 and JKS get the command to convert). */
  truststoreLocation?: string
  /** ssl.truststore.password: accepted for Java configurations; PEM truststores need none. */
  truststorePassword?: string
  /** ssl.truststore.type (Java). The file's content decides in the end; JKS cannot be read. */
  truststoreType?: StoreType
  /** ssl.truststore.certificates (Java, type PEM): CA certificates as a PEM string. */
  truststoreCertificates?: string
  /** ssl.cipher.suites: OpenSSL names (`:`-separated) or Java's IANA names (`,`-separated). */
  cipherSuites?: string
  /** enable.ssl.certificate.verification: false accepts any broker certificate. Default true. */
  verifyCertificates?: boolean
  /** ssl.endpoint.identification.algorithm: 'https' (default) checks the host name; 'none' does not. */
  endpointIdentification?: 'https' | 'none'
  /** Node's own options, applied last: they override anything above (the escape hatch). */
  extra?: TlsConnectionOptions
}

/** The configuration key behind each field, for messages: users know the keys, not our fields. */
export const TLS_SETTING_KEYS: { readonly [field in keyof TlsSettings]-?: string } = {
  caLocation: 'ssl.ca.location',
  caPem: 'ssl.ca.pem',
  certificateLocation: 'ssl.certificate.location',
  certificatePem: 'ssl.certificate.pem',
  keyLocation: 'ssl.key.location',
  keyPem: 'ssl.key.pem',
  keyPassword: 'ssl.key.password',
  keystoreLocation: 'ssl.keystore.location',
  keystorePassword: 'ssl.keystore.password',
  keystoreType: 'ssl.keystore.type',
  keystoreKey: 'ssl.keystore.key',
  keystoreCertificateChain: 'ssl.keystore.certificate.chain',
  truststoreLocation: 'ssl.truststore.location',
  truststorePassword: 'ssl.truststore.password',
  truststoreType: 'ssl.truststore.type',
  truststoreCertificates: 'ssl.truststore.certificates',
  cipherSuites: 'ssl.cipher.suites',
  verifyCertificates: 'enable.ssl.certificate.verification',
  endpointIdentification: 'ssl.endpoint.identification.algorithm',
  extra: 'the Node TLS options',
}
