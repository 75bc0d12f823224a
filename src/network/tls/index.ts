// What the layers above use of TLS: the settings type, the loader that turns them into tls.connect
// options, and its error. The transport itself is `tlsTransport` in ../transport.ts.
export { TlsConfigError, classifyTlsError } from './errors.js'
export { loadTlsMaterial } from './material.js'
export { TLS_SETTING_KEYS } from './settings.js'
export type { StoreType, TlsSettings } from './settings.js'
