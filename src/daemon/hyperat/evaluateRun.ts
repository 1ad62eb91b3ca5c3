// placeholder until the evaluator lands
export {};
