/**
 * Our hand-written wasm SIMD kernels (kernels/*.wat) run on tfjs-backend-wasm's own heap: each
 * module imports that memory, so kernels read and write tensors in place. One instance per
 * (module, heap): every worker thread has its own tfjs module and memory.
 */
export interface WasmKernelBackend {
  wasm: { asm: { memory: WebAssembly.Memory }; HEAPF32: Float32Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: string): { dataId: object; shape: number[]; dtype: string };
}

const compiled = new Map<string, WebAssembly.Module>();
const instances = new WeakMap<WebAssembly.Memory, Map<string, WebAssembly.Exports>>();

/** The exports of the kernel module `base64`, instantiated on `backend`'s heap. */
export function kernelExports(backend: WasmKernelBackend, base64: string): WebAssembly.Exports {
  const memory = backend.wasm.asm.memory;
  let byModule = instances.get(memory);
  if (!byModule) instances.set(memory, (byModule = new Map()));
  let exports = byModule.get(base64);
  if (!exports) {
    let module = compiled.get(base64);
    if (!module) compiled.set(base64, (module = new WebAssembly.Module(Buffer.from(base64, "base64"))));
    exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
    byModule.set(base64, exports);
  }
  return exports;
}

/** Byte offset of a tensor's data in the wasm heap. */
export function heapOffset(backend: WasmKernelBackend, t: { dataId: object }): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}
