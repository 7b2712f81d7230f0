#!/usr/bin/env node
// The `pingora-ts` command: a proxy described by one YAML file (see @pingora-ts/gateway).
import { main } from '@pingora-ts/gateway';

await main(process.argv.slice(2));
