import type { Command } from "commander";
import { selectBackend } from "../../core/backend/select";
import { isBackendRequest } from "../../core/backend/names";
import { loadModelSpec } from "../../core/model/modelSource";
import { classifier } from "../../core/model/vit";
import { loadDataSpec } from "../../core/data/spec";
import { writeFileAtomic } from "../../core/io/files";
import { parseEps } from "../../core/evaluate/eps";
import { resolveAttackList } from "../../core/evaluate/presets";
import { evaluate } from "../../core/evaluate/evaluator";
import { buildReport, formatTable, reportMarkdown } from "../../core/evaluate/report";
import { ProgressLine } from "../progress";
import { fitEvaluationBatch, type EvaluationBatch } from "../../core/evaluate/batchMemory";
import { memoryLimit } from "../../core/memory/limits";
import { hostMemoryFor } from "../../daemon/engine/memoryPlan";
import { version } from "../../../package.json";

interface EvalFlags {
  model: string;
  data: string;
  attacks: string;
  eps: string;
  n?: string;
  batch: string;
  seed: string;
  perSample?: boolean;
  perAttack?: boolean;
  out?: string;
  markdown?: string;
  backend: string;
  json?: boolean;
  allowNonfinite?: boolean;
}

function intFlag(flag: string, v: string, min: number): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isInteger(n) || n < min) throw new Error(`${flag}: expected an integer ≥ ${min}, got "${v}"`);
  return n;
}

/** `hyperat eval`: robust accuracy of a model file under an attack suite (issue 3). */
export function registerEval(program: Command): void {
  program
    .command("eval")
    .description("robust accuracy of a model under L-inf attacks (AutoAttack-style per-sample worst case)")
    .requiredOption("--model <file>", "model .safetensors (timm names), a folder with model.safetensors + config.json (merged/<strategy>/, timm local-dir) or hf:owner/name[@rev] from the local Hub cache")
    .requiredOption("--data <spec>", "data spec, e.g. synthetic:shapes10?n=500 or a CIFAR-10 folder (test split)")
    .option("--attacks <list>", "quick | standard | full | comma list (pgd-20,cw-20,apgd-ce,apgd-t,fab-t,square,...)", "standard")
    .option("--eps <eps>", "L-inf radius in [0,1] pixels, fraction or decimal", "8/255")
    .option("--n <n>", "evaluate the first n samples")
    .option("--batch <b>", "samples per attack batch", "64")
    .option("--seed <s>", "attack seed", "0")
    .option("--per-sample", "include per-sample results in the JSON report")
    .option("--per-attack", "also run every attack on all clean-correct samples (stand-alone numbers)")
    .option("--out <file>", "write the JSON report here")
    .option("--markdown <file>", "write a markdown report (RobustBench fields) here")
    .option("--backend <name>", "auto | tensorflow-gpu | webgpu | tensorflow | wasm | cpu", "auto")
    .option("--json", "print the JSON report instead of the table")
    .option("--allow-nonfinite", "load the model even if some weights are NaN or infinite (research); refused otherwise, naming the tensor")
    .action(async (opts: EvalFlags) => {
      // Validate everything cheap before loading anything heavy.
      if (!isBackendRequest(opts.backend)) throw new Error(`--backend: unknown backend "${opts.backend}"`);
      const eps = parseEps(opts.eps, "--eps");
      const attacks = resolveAttackList(opts.attacks);
      const n = opts.n === undefined ? undefined : intFlag("--n", opts.n, 1);
      const batchSize = intFlag("--batch", opts.batch, 1);
      const seed = intFlag("--seed", opts.seed, 0);

      const info = await selectBackend(opts.backend);
      const data = await loadDataSpec(opts.data, { split: "test", baseDir: process.cwd() });
      if (data.height !== data.width) throw new Error(`--data ${opts.data}: images are ${data.height}x${data.width}; the ViT needs square images`);
      const loaded = await loadModelSpec(opts.model, { imgSize: data.height, allowNonFinite: opts.allowNonfinite === true });
      const c = loaded.config;
      if (c.numClasses !== data.numClasses) {
        throw new Error(`--model ${opts.model} has ${c.numClasses} classes but --data ${opts.data} has ${data.numClasses}; evaluate on matching data`);
      }
      let fitted: EvaluationBatch;
      try {
        // Planned before it runs: an oversize batch died at the wasm heap's end (issue 15).
        fitted = fitEvaluationBatch(c, undefined, Math.min(batchSize, n ?? data.n, data.n), memoryLimit(info, await hostMemoryFor(info)), "--batch", batchSize);
      } catch (e) {
        for (const t of Object.values(loaded.params)) t.dispose();
        throw e;
      }
      const progress = new ProgressLine();
      for (const note of loaded.notes) progress.log(`model: ${note}`);
      if (fitted.note) progress.log(fitted.note);
      const architecture = `ViT (dim ${c.dim}, depth ${c.depth}, heads ${c.heads}, patch ${c.patchSize}, ${c.imgSize}px, ${c.numClasses} classes)`;
      progress.log(`evaluating ${architecture} on ${data.source}: ${attacks.join(", ")} at eps ${eps.text}, backend ${info.backend}`);
      try {
        const result = await evaluate(classifier(c, loaded.params), data, {
          attacks,
          eps,
          seed,
          batchSize: fitted.batch,
          n,
          perSample: opts.perSample,
          perAttack: opts.perAttack,
          backend: info.backend,
          versions: { hyperat: version, node: process.version },
          onProgress: (p) => progress.update(p.attack, p.total === 0 ? 100 : (100 * p.done) / p.total, p.message),
        });
        progress.done(`done in ${result.seconds.toFixed(1)} s`);
        const report = buildReport(result, {
          checkpoint: loaded.source.pinned ?? opts.model,
          architecture,
          data: opts.data,
          command: `hyperat eval ${process.argv.slice(3).join(" ")}`,
        });
        if (opts.out) await writeFileAtomic(opts.out, JSON.stringify(report, null, 2) + "\n");
        if (opts.markdown) await writeFileAtomic(opts.markdown, reportMarkdown(report));
        if (opts.json) console.log(JSON.stringify(report, null, 2));
        else {
          console.log(formatTable(result));
          for (const w of result.warnings) console.log(`warning: ${w}`);
        }
      } finally {
        for (const t of Object.values(loaded.params)) t.dispose();
      }
    });
}

/** A timm local-dir folder (merged/<strategy>/) names its model.safetensors; a file is itself. */
