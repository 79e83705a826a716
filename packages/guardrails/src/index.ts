export { CARD_REDACTION, findCardNumbers, luhnValid, mayContainCardNumber, redactCardNumbers, type Span } from './card-number.js';
export { checkInput, type CardPolicy } from './check-input.js';
