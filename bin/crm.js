#!/usr/bin/env node
// Tiny launcher into the CLI, bundled into dist/bundle/ (npm ci runs `prepare`,
// which compiles src/ with tsc and bundles it; see scripts/bundle.mjs).
import { main } from '../dist/bundle/main.js';

process.exitCode = await main(process.argv.slice(2));
