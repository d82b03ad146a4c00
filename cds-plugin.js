// cap-connectivity's CAP plugin. CAP loads this file for every app that lists the package in its
// dependencies; the remote-service kinds are registered declaratively in package.json#cds.
require('./dist/cap/plugin.js')
