// Bundles src/main.ts (and the CSS it imports) into dist/, with hashed names, and writes
// dist/index.html pointing at them. `--watch` rebuilds on every change.
import { context } from "esbuild";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";

const watch = process.argv.includes("--watch");
const outdir = "dist";

const writeIndex = {
  name: "write-index",
  setup(build) {
    build.onStart(() => rm(outdir, { recursive: true, force: true }));
    build.onEnd(async (result) => {
      if (result.errors.length > 0) return;
      const outputs = Object.keys(result.metafile.outputs).map((file) => "/" + path.relative(outdir, file));
      // The entry's script and style; other chunks (the document editor) load on demand.
      const [entry, meta] = Object.entries(result.metafile.outputs).find(([, output]) => output.entryPoint === "src/main.ts");
      const script = "/" + path.relative(outdir, entry);
      const style = "/" + path.relative(outdir, meta.cssBundle);
      const html = (await readFile("index.html", "utf8"))
        .replace("<!-- style -->", `<link rel="stylesheet" href="${style}" />`)
        .replace("<!-- script -->", `<script type="module" src="${script}"></script>`);
      await mkdir(outdir, { recursive: true });
      await writeFile(path.join(outdir, "index.html"), html);
      console.log(`built ${outputs.join(", ")}`);
    });
  },
};

const ctx = await context({
  entryPoints: ["src/main.ts"],
  bundle: true,
  format: "esm",
  splitting: true,
  target: "es2022",
  minify: !watch,
  sourcemap: true,
  outdir: path.join(outdir, "assets"),
  entryNames: "[name]-[hash]",
  chunkNames: "[name]-[hash]",
  metafile: true,
  logLevel: "warning",
  plugins: [writeIndex],
});

if (watch) {
  await ctx.watch();
} else {
  await ctx.rebuild();
  await ctx.dispose();
}
