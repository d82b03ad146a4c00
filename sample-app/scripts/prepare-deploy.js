// Before an MTA build: the sample depends on cap-connectivity as "file:..", which does not exist
// inside the deployed folders. Pack this repository and point gen/srv and tunnel-server at the
// tarball, so Cloud Foundry's npm install finds it. Run after `cds build --production`.
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const repo = path.resolve(__dirname, '..', '..')
const targets = [path.join(repo, 'sample-app', 'gen', 'srv'), path.join(repo, 'sample-app', 'tunnel-server')]

const out = execFileSync('npm', ['pack', '--json', '--pack-destination', path.join(repo, 'sample-app')], {
  cwd: repo,
  encoding: 'utf8',
})
const tarball = path.join(repo, 'sample-app', JSON.parse(out)[0].filename)

for (const dir of targets) {
  const pkgFile = path.join(dir, 'package.json')
  if (!fs.existsSync(pkgFile)) throw new Error(`${pkgFile} not found; run cds build --production first`)
  fs.copyFileSync(tarball, path.join(dir, path.basename(tarball)))
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'))
  pkg.dependencies = { ...pkg.dependencies, 'cap-connectivity': `file:${path.basename(tarball)}` }
  fs.writeFileSync(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`)
  console.log(`${path.relative(repo, pkgFile)} → cap-connectivity from ${path.basename(tarball)}`)
}
fs.rmSync(tarball)
