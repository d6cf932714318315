import { defineConfig } from "@playwright/test";
import { chmodSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// A fresh data folder per run, so the embedded database starts empty. It must be
// enterable by the `postgres` user when the tests run as root.
const dataDir = process.env.E2E_DATA_DIR ?? mkdtempSync(join(tmpdir(), "rapport-e2e-"));
chmodSync(dataDir, 0o755);
process.env.E2E_DATA_DIR = dataDir;

const port = Number(process.env.E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: "./tests",
  outputDir: "./test-results",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    command: "../target/release/server serve",
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe",
    stderr: "pipe",
    gracefulShutdown: { signal: "SIGTERM", timeout: 30_000 },
    env: {
      RAPPORT_ADDR: `127.0.0.1:${port}`,
      RAPPORT_DATA_DIR: dataDir,
      RAPPORT_SITE_ROOT: "../target/site",
      RUST_LOG: process.env.E2E_LOG ?? "warn",
      // Demo mode: the server runs its own fake Google with a generated mailbox, as large as
      // `make run`'s so that "this week" (Monday to now) has mail waiting for a reply.
      RAPPORT_DEMO_MESSAGES: "3000",
      // The simulated Messenger / Instagram customers write only when a test makes them.
      RAPPORT_DEMO_CUSTOMERS_SECS: "0",
    },
  },
});
