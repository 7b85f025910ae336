export * from "./types";
export {
  budgetFits,
  budgetTotal,
  headroomFor,
  HEADROOM_FRACTION,
  HEADROOM_MIN_BYTES,
} from "./common";
export * from "./postgres";
export * from "./mysql";
