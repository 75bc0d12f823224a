// The codecs that need no dependency: none, and gzip from node:zlib.
import { gunzipSync, gzipSync } from 'node:zlib'
import type { Codec } from './index.js'

export const noneCodec: Codec = {
  name: 'none',
  attribute: 0,
  compress: (data) => data,
  decompress: (data) => data,
}

export const gzipCodec: Codec = {
  name: 'gzip',
  attribute: 1,
  compress: (data, level) => gzipSync(data, level === undefined ? undefined : { level }),
  decompress: (data) => gunzipSync(data),
}
