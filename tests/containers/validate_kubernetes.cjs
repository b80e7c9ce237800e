// Validates every object in the given YAML files against the Kubernetes schema (npm's
// kubernetes-models: required fields, types, enums). Exit 1 on the first file with an error.
// NODE_PATH must point at the node_modules that hold kubernetes-models and js-yaml.
const { readFileSync } = require("node:fs");
const yaml = require("js-yaml");
const { Deployment } = require("kubernetes-models/apps/v1");
const { ConfigMap, Pod, Secret } = require("kubernetes-models/v1");

const models = { "apps/v1 Deployment": Deployment, "v1 ConfigMap": ConfigMap, "v1 Pod": Pod, "v1 Secret": Secret };
let failed = false;
for (const file of process.argv.slice(2)) {
  for (const object of yaml.loadAll(readFileSync(file, "utf8"))) {
    if (!object) continue;
    const kind = `${object.apiVersion} ${object.kind}`;
    const Model = models[kind];
    try {
      if (!Model) throw new Error(`no schema known for ${kind}`);
      new Model(object).validate();
      console.log(`${file}: ${object.kind} ${object.metadata.name}: valid`);
    } catch (error) {
      console.error(`${file}: ${object.kind} ${object.metadata && object.metadata.name}: ${error.message}`);
      failed = true;
    }
  }
}
process.exit(failed ? 1 : 0);
