// Starts the firebase-tools Cloud Storage emulator alone, for the GCS provider tests.
//
// `firebase emulators:start` cannot be used here: it needs Java 21 for the security-rules runtime and downloads a
// rules jar. The JSON API the Google client library speaks does not need rules, so the rules runtime and manager
// are replaced with no-ops before the emulator is constructed. This relies on firebase-tools internals: the
// version is pinned (package.json) and the launcher checks it.
//
// Usage: node gcs-emulator.js HOST PORT [PROJECT_ID]
"use strict";
const path = require("path");

const [host, portText, projectId = "kubebackup-test"] = process.argv.slice(2);
const port = Number(portText);
if (!host || !Number.isInteger(port) || port <= 0) {
  console.error("usage: node gcs-emulator.js HOST PORT [PROJECT_ID]");
  process.exit(2);
}

const toolsDir = path.join(__dirname, "node_modules", "firebase-tools");
const expectedVersion = "15.34.2";
const version = require(path.join(toolsDir, "package.json")).version;
if (version !== expectedVersion) {
  console.error(`firebase-tools ${version} found, ${expectedVersion} expected: this launcher uses its internals`);
  process.exit(2);
}

const emulatorDir = path.join(toolsDir, "lib", "emulator");
const runtime = require(path.join(emulatorDir, "storage", "rules", "runtime"));
runtime.StorageRulesRuntime.prototype.start = async function () {};
runtime.StorageRulesRuntime.prototype.stop = async function () {};
const manager = require(path.join(emulatorDir, "storage", "rules", "manager"));
manager.createStorageRulesManager = () => ({
  start: async () => [],
  stop: async () => {},
  getRuleset: () => undefined,
});

const { StorageEmulator } = require(path.join(emulatorDir, "storage"));
const { EmulatorRegistry } = require(path.join(emulatorDir, "registry"));

async function main() {
  const emulator = new StorageEmulator({ host, port, projectId, rules: [], auto_download: false });
  // Without the registry, every request fails with a 500: request handlers look the emulator up there.
  await EmulatorRegistry.start(emulator);
  console.log(`storage emulator listening on ${host}:${port}`);
  const stop = () => process.exit(0);
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
