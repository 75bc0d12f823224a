// Optional codec packages are loaded on first use, so the core installs and runs without any
// native code: only a producer configured for a codec needs its package.
import { createRequire } from 'node:module'
import { KafkaError } from '../errors/index.js'

const require = createRequire(import.meta.url)

/** Loads `pkg` synchronously (codecs run on the batch path, which is synchronous). */
export function loadOptional<T>(pkg: string, codec: string): T {
  try {
    return require(pkg) as T
  } catch (err) {
    throw new KafkaError(
      '_NOT_IMPLEMENTED',
      `compression.type=${codec} needs the optional package '${pkg}', which could not be loaded ` +
        `(install it with: npm install ${pkg}): ${(err as Error).message}`,
      { cause: err },
    )
  }
}
