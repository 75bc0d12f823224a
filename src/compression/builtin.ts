// The codecs that need no dependency: none, and gzip from node:zlib.
import { gunzipSync, gzip, gzipSync } from 'node:zlib'
import type { Codec } from './codec.js'

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
  compressAsync: (data, level) =>
    new Promise((resolve, reject) =>
      gzip(data, level === undefined ? {} : { level }, (err, out) => (err ? reject(err) : resolve(out))),
    ),
  decompress: (data) => gunzipSync(data),
}
