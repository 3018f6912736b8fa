// Joins the BenchmarkDotNet JSON report (Parley.Crypto) with libsignal-bench.js output and prints
// one row per operation: Parley median, libsignal median, and libsignal / Parley (above 1: Parley faster).
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const [artifacts, libsignalFile] = process.argv.slice(2);
const resultsDir = path.join(artifacts, 'results');
const parley = {};
for (const file of fs.readdirSync(resultsDir).filter((f) => f.endsWith('.json'))) {
  const report = JSON.parse(fs.readFileSync(path.join(resultsDir, file), 'utf8'));
  for (const benchmark of report.Benchmarks) {
    if (!benchmark.Statistics) continue;
    // DisplayInfo is "Type.'description': Job(...) [Param=Value]"; key on description + param value.
    const description = /'([^']+)'/.exec(benchmark.DisplayInfo)?.[1] ?? benchmark.Method;
    const parameter = benchmark.Parameters ? ` [${benchmark.Parameters.split('=').pop()}]` : '';
    parley[description + parameter] = {
      median: benchmark.Statistics.Median,
      allocated: benchmark.Memory?.BytesAllocatedPerOperation,
    };
  }
}

const libsignal = JSON.parse(fs.readFileSync(libsignalFile, 'utf8'));
const format = (ns) => (ns === undefined ? '-' : ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${(ns / 1e3).toFixed(1)} µs`);
const rows = [['operation', 'Parley.Crypto', 'libsignal (node)', 'ratio']];
for (const name of Object.keys(parley).sort()) {
  const theirs = libsignal.results[name];
  const ratio = theirs === undefined ? '-' : `${(theirs / parley[name].median).toFixed(2)}x`;
  rows.push([name, format(parley[name].median), format(theirs), ratio]);
}

console.log(`libsignal-client ${libsignal.versions.current} (X3DH: ${libsignal.versions.legacy}) on node ${libsignal.node}; ratio = libsignal time / Parley time`);
const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
for (const [index, row] of rows.entries()) {
  console.log(`| ${row.map((cell, column) => cell.padEnd(widths[column])).join(' | ')} |`);
  if (index === 0) console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
}
