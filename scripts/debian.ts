// Debian packages our scripts need on a fresh machine (kcat for the tests, the -dev libraries that
// @confluentinc/kafka-javascript's bundled librdkafka links against in the bench). Installed with
// apt-get when we are root on a Debian machine (CI, the project's dev machines); elsewhere the
// caller says what to install.
import { spawnSync } from 'node:child_process'

/** The packages of `names` that dpkg does not have installed (all of them without dpkg). */
export function missingDebianPackages(names: readonly string[]): string[] {
  return names.filter((name) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' })
    return r.status !== 0 || !r.stdout.includes('install ok installed')
  })
}

/**
 * Installs the missing packages of `names` with apt-get if we are root and apt-get exists. Returns
 * the packages still missing afterwards (empty when all are there); never throws.
 */
export function installDebianPackages(names: readonly string[], log: (line: string) => void): string[] {
  const missing = missingDebianPackages(names)
  if (missing.length === 0) return []
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  const hasApt = spawnSync('apt-get', ['--version'], { encoding: 'utf8' }).status === 0
  if (!isRoot || !hasApt) return missing
  log(`installing ${missing.join(' ')} with apt-get…`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
  const install = spawnSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env })
  if (update.status !== 0 || install.status !== 0) log(`apt-get could not install ${missing.join(' ')}`)
  return missingDebianPackages(missing)
}
