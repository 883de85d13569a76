import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** @type {import('next').NextConfig} */
const nextConfig = {
  // A self-contained server (server.js and the files it needs) that ./vsc up copies to its build cache.
  output: 'standalone',
  // The workspace root: pnpm's store lives there, and standalone tracing must see it.
  outputFileTracingRoot: join(here, '..'),
  poweredByHeader: false,
  reactStrictMode: true,
  // The designer validates documents in the browser with the gateway's own code (TypeScript sources).
  transpilePackages: ['@vansales/definitions', '@vansales/protocol'],
};

export default nextConfig;
