// Drives `pos daemon` with Adyen's official Node library (tests/daemon/test_node_client.py).
// stdin: {"endpoint", "apiKey", "certificate", "key": {KeyIdentifier, KeyVersion, Passphrase},
//         "steps": [{"mode": "encrypted"|"clear", "request": {...}, "delayMs": n}, ...] }
// A step may instead be {"parallel": [steps]}: they run at once (each after its delayMs).
// stdout: one JSON line per step (in order): {"response": ...} or {"error": "..."}.
"use strict";
const { Client, TerminalLocalAPI } = require("@adyen/api-library");
const TerminalLocalAPIUnencrypted = require("@adyen/api-library/lib/src/services/terminalLocalAPIUnencrypted").default;

function readStdin() {
  return new Promise((resolve) => {
    let data = "";
    process.stdin.on("data", (chunk) => { data += chunk; });
    process.stdin.on("end", () => resolve(JSON.parse(data)));
  });
}

async function runStep(input, step) {
  await new Promise((r) => setTimeout(r, step.delayMs || 0));
  const options = { apiKey: input.apiKey, environment: "TEST", terminalApiLocalEndpoint: input.endpoint };
  if (step.mode === "encrypted") options.certificatePath = input.certificate;
  const client = new Client(options);
  try {
    let response;
    if (step.mode === "encrypted") {
      response = await new TerminalLocalAPI(client).request(step.request, input.key);
    } else {
      response = await new TerminalLocalAPIUnencrypted(client).request(step.request);
    }
    return { response };
  } catch (e) {
    return { error: String(e && (e.message || e)), statusCode: e && e.statusCode };
  }
}

(async () => {
  const input = await readStdin();
  for (const step of input.steps) {
    if (step.parallel) {
      const results = await Promise.all(step.parallel.map((s) => runStep(input, s)));
      for (const r of results) process.stdout.write(JSON.stringify(r) + "\n");
    } else {
      process.stdout.write(JSON.stringify(await runStep(input, step)) + "\n");
    }
  }
})();
