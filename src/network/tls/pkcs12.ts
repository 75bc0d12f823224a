import { createDecipheriv, createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto'

// The CA certificates of a PKCS#12 truststore (RFC 7292), Java's usual ssl.truststore.location. Node
// reads PKCS#12 only as `pfx`, which must hold a private key, so a truststore of certificates alone
// cannot be given to it: this reads the certificate bags itself. It handles what keytool (Java 8 to
// 21) and OpenSSL 1.1 and 3 write: unencrypted bags, PBES2 (PBKDF2 + AES or 3DES, today's default)
// and PKCS#12's own PBE with 3DES, plus the HMAC that checks the password. RC2 and RC4 (Java 8's
// and OpenSSL 1.x's defaults for certificates) are not in Node's OpenSSL 3 default provider: those
// files get an error asking to re-export them. Private keys are never read.

/** Why a truststore could not be read; stores.ts turns it into a message naming the setting. */
export class Pkcs12Problem extends Error {
  constructor(
    readonly kind: 'wrong-password' | 'needs-password' | 'legacy' | 'format' | 'no-certificates',
    message: string,
  ) {
    super(message)
  }
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  localKeyId: '1.2.840.113549.1.9.21',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pbeSha1TripleDes: '1.2.840.113549.1.12.1.3',
} as const

/** Digests by OID: PBKDF2's PRF (hmacWith*) and the MAC's DigestInfo. */
const HASHES: Readonly<Record<string, string>> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
}

/** PBES2 encryption schemes by OID: Node's cipher name and key length. */
const CIPHERS: Readonly<Record<string, { name: string; keyLength: number }>> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyLength: 24 },
}

/** PKCS#12 PBE schemes with RC2 or RC4 (1.2.840.113549.1.12.1.1, .2, .5, .6). */
const LEGACY_PBE = /^1\.2\.840\.113549\.1\.12\.1\.[1256]$/

const format = (what: string): Pkcs12Problem => new Pkcs12Problem('format', what)

// ---------------------------------------------------------------- DER, as much as PKCS#12 needs

interface Tlv {
  readonly tag: number
  readonly value: Buffer
}

/** The element at `offset` of `buf`, and where the next one starts. Definite lengths only (DER). */
function element(buf: Buffer, offset: number): { tlv: Tlv; next: number } {
  if (offset + 2 > buf.length) throw format('truncated DER')
  const tag = buf[offset]!
  let length = buf[offset + 1]!
  let start = offset + 2
  if (length & 0x80) {
    const n = length & 0x7f
    if (n === 0 || n > 4 || start + n > buf.length) throw format('unsupported DER length')
    length = 0
    for (let i = 0; i < n; i++) length = length * 256 + buf[start + i]!
    start += n
  }
  if (start + length > buf.length) throw format('truncated DER')
  return { tlv: { tag, value: buf.subarray(start, start + length) }, next: start + length }
}

/** The one element `buf` holds. */
function parse(buf: Buffer): Tlv {
  return element(buf, 0).tlv
}

/** The elements inside a constructed element (SEQUENCE, SET, [n] EXPLICIT). */
function children(t: Tlv): Tlv[] {
  const out: Tlv[] = []
  for (let at = 0; at < t.value.length;) {
    const { tlv, next } = element(t.value, at)
    out.push(tlv)
    at = next
  }
  return out
}

function expect(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (t === undefined || t.tag !== tag) throw format(`${what} expected`)
  return t
}

function oid(t: Tlv | undefined): string {
  const v = expect(t, 0x06, 'object identifier').value
  if (v.length === 0) throw format('empty object identifier')
  const parts = [Math.floor(v[0]! / 40), v[0]! % 40]
  let n = 0
  for (let i = 1; i < v.length; i++) {
    n = n * 128 + (v[i]! & 0x7f)
    if (!(v[i]! & 0x80)) {
      parts.push(n)
      n = 0
    }
  }
  return parts.join('.')
}

function integer(t: Tlv | undefined): number {
  const v = expect(t, 0x02, 'integer').value
  if (v.length > 6) throw format('integer too large')
  let n = 0
  for (const b of v) n = n * 256 + b
  return n
}

/** An OCTET STRING's bytes, primitive or (BER-style) constructed from pieces; `tag` for IMPLICIT ones. */
function octets(t: Tlv | undefined, tag = 0x04): Buffer {
  if (t !== undefined && t.tag === tag) return t.value
  if (t !== undefined && t.tag === (tag | 0x20)) return Buffer.concat(children(t).map((c) => octets(c)))
  throw format('octet string expected')
}

/** The content of a ContentInfo's `[0] EXPLICIT` field. */
function explicit0(t: Tlv | undefined): Tlv {
  const [inner] = children(expect(t, 0xa0, '[0]'))
  if (inner === undefined) throw format('empty [0]')
  return inner
}

// ---------------------------------------------------------------- passwords and keys

/** PKCS#12's password form: UTF-16 big-endian with a two-byte terminator (RFC 7292, B.1). */
function bmpPassword(password: string): Buffer {
  const b = Buffer.from(`${password}\0`, 'utf16le')
  return b.swap16()
}

/** PKCS#12's key derivation (RFC 7292, B.2): `id` 1 for keys, 2 for IVs, 3 for MAC keys. */
function pkcs12Kdf(
  hash: string,
  password: Buffer,
  salt: Buffer,
  iterations: number,
  id: number,
  n: number,
): Buffer {
  const u = createHash(hash).digest().length
  const v = hash === 'sha384' || hash === 'sha512' ? 128 : 64
  const repeat = (b: Buffer, length: number): Buffer => {
    const out = Buffer.alloc(length)
    for (let i = 0; i < length && b.length > 0; i++) out[i] = b[i % b.length]!
    return out
  }
  const block = (b: Buffer): Buffer => repeat(b, v * Math.ceil(b.length / v))
  const d = Buffer.alloc(v, id)
  const i = Buffer.concat([block(salt), block(password)])
  const out: Buffer[] = []
  for (let produced = 0; produced < n; produced += u) {
    let a = createHash(hash).update(d).update(i).digest()
    for (let r = 1; r < iterations; r++) a = createHash(hash).update(a).digest()
    out.push(a)
    // I_j = (I_j + B + 1) mod 2^(8v) for each v-byte block of I, B being A repeated to v bytes.
    const b = repeat(a, v)
    for (let j = 0; j < i.length; j += v) {
      let carry = 1
      for (let k = v - 1; k >= 0; k--) {
        const sum = i[j + k]! + b[k]! + carry
        i[j + k] = sum & 0xff
        carry = sum >>> 8
      }
    }
  }
  return Buffer.concat(out).subarray(0, n)
}

/** Checks the file's HMAC with `password`: the only check when the bags are not encrypted. */
function verifyMac(macData: Tlv, content: Buffer, password: string): void {
  const [digestInfo, salt, iterations] = children(macData)
  const [algorithm, digest] = children(expect(digestInfo, 0x30, 'DigestInfo'))
  const hash = HASHES[oid(children(expect(algorithm, 0x30, 'AlgorithmIdentifier'))[0])]
  // An unknown MAC (OpenSSL 3.4's PBMAC1) is skipped, as Java skips the check without a password:
  // an encrypted bag still tells a wrong password.
  if (hash === undefined) return
  const expected = octets(digest)
  const key = pkcs12Kdf(
    hash,
    bmpPassword(password),
    octets(salt),
    iterations ? integer(iterations) : 1,
    3,
    expected.length,
  )
  const actual = createHmac(hash, key).update(content).digest()
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new Pkcs12Problem('wrong-password', 'the password does not match the integrity check')
  }
}

/** Decrypts an EncryptedContentInfo's content with `password`. */
function decrypt(algorithm: Tlv, data: Buffer, password: string): Buffer {
  const [idTlv, params] = children(expect(algorithm, 0x30, 'AlgorithmIdentifier'))
  const id = oid(idTlv)
  let cipher: string
  let key: Buffer
  let iv: Buffer
  if (id === OID.pbes2) {
    const [kdf, scheme] = children(expect(params, 0x30, 'PBES2 parameters'))
    const [kdfId, kdfParams] = children(expect(kdf, 0x30, 'key derivation'))
    if (oid(kdfId) !== OID.pbkdf2) throw format('PBES2 without PBKDF2')
    const [salt, iterations, ...rest] = children(expect(kdfParams, 0x30, 'PBKDF2 parameters'))
    const prfTlv = rest.find((t) => t.tag === 0x30)
    const prf = prfTlv === undefined ? 'sha1' : HASHES[oid(children(prfTlv)[0])]
    const [schemeId, schemeIv] = children(expect(scheme, 0x30, 'encryption scheme'))
    const c = CIPHERS[oid(schemeId)]
    if (prf === undefined || c === undefined) throw format('unsupported PBES2 algorithm')
    cipher = c.name
    key = pbkdf2Sync(Buffer.from(password, 'utf8'), octets(salt), integer(iterations), c.keyLength, prf)
    iv = octets(schemeIv)
  } else if (id === OID.pbeSha1TripleDes) {
    const [salt, iterations] = children(expect(params, 0x30, 'PBE parameters'))
    const p = bmpPassword(password)
    cipher = 'des-ede3-cbc'
    key = pkcs12Kdf('sha1', p, octets(salt), integer(iterations), 1, 24)
    iv = pkcs12Kdf('sha1', p, octets(salt), integer(iterations), 2, 8)
  } else if (LEGACY_PBE.test(id)) {
    throw new Pkcs12Problem('legacy', 'encrypted with RC2 or RC4')
  } else {
    throw format(`unsupported encryption ${id}`)
  }
  try {
    const d = createDecipheriv(cipher, key, iv)
    return Buffer.concat([d.update(data), d.final()])
  } catch {
    // Bad padding: with the integrity check passed or absent, the password is what is wrong.
    throw new Pkcs12Problem('wrong-password', 'the password does not decrypt the certificates')
  }
}

// ---------------------------------------------------------------- the file

/** The certificates of SafeContents, except those of a private key (the bag has a localKeyId). */
function certificatesOf(safeContents: Buffer, out: Buffer[]): void {
  for (const bag of children(parse(safeContents))) {
    const [bagId, bagValue, attributes] = children(expect(bag, 0x30, 'SafeBag'))
    if (oid(bagId) !== OID.certBag) continue
    const ownKey =
      attributes !== undefined && children(attributes).some((a) => oid(children(a)[0]) === OID.localKeyId)
    if (ownKey) continue
    const [certId, certValue] = children(expect(explicit0(bagValue), 0x30, 'CertBag'))
    if (oid(certId) === OID.x509Certificate) out.push(octets(explicit0(certValue)))
  }
}

/**
 * The DER certificates a PKCS#12 truststore trusts. `password` checks the file's integrity and opens
 * encrypted bags; without one, the check is skipped (as Java does) and encrypted bags cannot be read.
 */
export function pkcs12Certificates(der: Buffer, password: string | undefined): Buffer[] {
  let certificates: Buffer[]
  try {
    const [version, authSafe, macData] = children(expect(parse(der), 0x30, 'PFX'))
    if (integer(version) !== 3) throw format('not PKCS#12 version 3')
    const [type, content] = children(expect(authSafe, 0x30, 'ContentInfo'))
    if (oid(type) !== OID.data) throw format('public-key integrity mode is not supported')
    const authenticated = octets(content === undefined ? undefined : explicit0(content))
    if (password !== undefined && macData !== undefined) verifyMac(macData, authenticated, password)
    certificates = []
    for (const info of children(parse(authenticated))) {
      const [infoType, infoContent] = children(expect(info, 0x30, 'ContentInfo'))
      const kind = oid(infoType)
      if (kind === OID.data) {
        certificatesOf(octets(explicit0(infoContent)), certificates)
      } else if (kind === OID.encryptedData) {
        const [, encryptedContentInfo] = children(explicit0(infoContent))
        const [, algorithm, encrypted] = children(expect(encryptedContentInfo, 0x30, 'EncryptedContentInfo'))
        if (password === undefined)
          throw new Pkcs12Problem('needs-password', 'the certificates are encrypted')
        certificatesOf(decrypt(algorithm!, octets(encrypted, 0x80), password), certificates)
      }
      // Enveloped (public-key encrypted) contents are skipped: no truststore uses them.
    }
  } catch (err) {
    if (err instanceof Pkcs12Problem) throw err
    throw format((err as Error).message)
  }
  if (certificates.length === 0) throw new Pkcs12Problem('no-certificates', 'no CA certificates in the file')
  return certificates
}
