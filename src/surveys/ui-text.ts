/**
 * The survey pages' and messages' own words — everything a respondent reads that the survey's
 * author did not write. One dictionary per language; `UiText` is the contract, so a language
 * missing a key (or carrying an unknown one) does not compile.
 */

export interface UiText {
  /** Submit button of every question but the last. */
  next: string;
  /** Submit button of the last question. */
  submit: string;
  /** Second submit button of an optional question. */
  skip: string;
  /** Progress as text: "Question 2 of 5". */
  progress: (position: number, total: number) => string;
  /** Error when a required question was sent without an answer. */
  required: string;
  /** Error when an answer is not one the question accepts (out of range, unknown choice, too long). */
  invalidAnswer: string;
  /** Hint under a single-choice question. */
  chooseOne: string;
  /** Hint under a multiple-choice question. */
  chooseAny: string;
  /** Marker after the text of an optional question, shown in parentheses. */
  optional: string;
  /** Heading for an answer shown back to the respondent. */
  yourAnswer: string;
  /** Hint under a text question; `n` is already formatted for the language. */
  maxLength: (n: string) => string;
  linkExpiredTitle: string;
  /** The link was used after `expiresAfterDays`. */
  linkExpired: string;
  completedTitle: string;
  /** The link was used after the survey was completed. */
  completed: string;
  linkInvalidTitle: string;
  /** The link's token is unknown or malformed. */
  linkInvalid: string;
  /** The opt-out link in e-mails and the opt-out page's heading. */
  optOut: string;
  /** On the opt-out page, above its button (`optOut`). */
  optOutConfirm: string;
  optedOutTitle: string;
  /** Confirmation after opting out. */
  optedOut: string;
  /** The link to the survey page in e-mails. */
  takeSurvey: string;
  /** Lead-in to a way to answer right away (e.g. in the e-mail). */
  orAnswerHere: string;
  /** Confirmation after an answer given by a link in the e-mail was stored. */
  answerSaved: string;
  /** Prefixed to the subject of the reminder e-mail; ends with its own space. */
  reminderPrefix: string;
}

/** Languages with their own dictionary; `en` is the fallback. */
export const UI_LANGUAGES = ['en', 'de', 'fr', 'es', 'nl', 'it', 'pt'] as const;
export type UiLanguage = (typeof UI_LANGUAGES)[number];

/** NO-BREAK SPACE: French puts one before ":". */
const NBSP = '\u00a0';

export const UI_TEXT: Record<UiLanguage, UiText> = {
  en: {
    next: 'Next',
    submit: 'Submit',
    skip: 'Skip',
    progress: (position, total) => `Question ${position} of ${total}`,
    required: 'This question needs an answer',
    invalidAnswer: 'This answer is not valid',
    chooseOne: 'Choose one',
    chooseAny: 'Choose any',
    optional: 'optional',
    yourAnswer: 'Your answer',
    maxLength: (n) => `Up to ${n} characters`,
    linkExpiredTitle: 'Link expired',
    linkExpired: 'This survey link has expired',
    completedTitle: 'Already completed',
    completed: 'This survey has already been completed — thank you',
    linkInvalidTitle: 'Link not valid',
    linkInvalid: 'This survey link is not valid',
    optOut: 'Stop receiving surveys by e-mail',
    optOutConfirm: 'Confirm, and we will not send you surveys by e-mail any more.',
    optedOutTitle: 'Unsubscribed',
    optedOut: 'You will not receive surveys by e-mail any more',
    takeSurvey: 'Take the survey',
    orAnswerHere: 'Or answer here:',
    answerSaved: 'Your answer was saved',
    reminderPrefix: 'Reminder: ',
  },
  de: {
    next: 'Weiter',
    submit: 'Absenden',
    skip: 'Überspringen',
    progress: (position, total) => `Frage ${position} von ${total}`,
    required: 'Bitte beantworten Sie diese Frage',
    invalidAnswer: 'Diese Antwort ist ungültig',
    chooseOne: 'Eine Antwort auswählen',
    chooseAny: 'Mehrere Antworten möglich',
    optional: 'optional',
    yourAnswer: 'Ihre Antwort',
    maxLength: (n) => `Bis zu ${n} Zeichen`,
    linkExpiredTitle: 'Link abgelaufen',
    linkExpired: 'Dieser Umfragelink ist abgelaufen',
    completedTitle: 'Bereits ausgefüllt',
    completed: 'Diese Umfrage wurde bereits ausgefüllt – vielen Dank',
    linkInvalidTitle: 'Link ungültig',
    linkInvalid: 'Dieser Umfragelink ist ungültig',
    optOut: 'Keine Umfragen mehr per E-Mail erhalten',
    optOutConfirm: 'Bestätigen Sie, und wir senden Ihnen keine Umfragen mehr per E-Mail.',
    optedOutTitle: 'Abgemeldet',
    optedOut: 'Sie erhalten keine Umfragen mehr per E-Mail',
    takeSurvey: 'Zur Umfrage',
    orAnswerHere: 'Oder antworten Sie gleich hier:',
    answerSaved: 'Ihre Antwort wurde gespeichert',
    reminderPrefix: 'Erinnerung: ',
  },
  fr: {
    next: 'Suivant',
    submit: 'Envoyer',
    skip: 'Passer',
    progress: (position, total) => `Question ${position} sur ${total}`,
    required: 'Veuillez répondre à cette question',
    invalidAnswer: 'Cette réponse n’est pas valide',
    chooseOne: 'Une seule réponse',
    chooseAny: 'Plusieurs réponses possibles',
    optional: 'facultatif',
    yourAnswer: 'Votre réponse',
    maxLength: (n) => `${n} caractères maximum`,
    linkExpiredTitle: 'Lien expiré',
    linkExpired: 'Ce lien vers l’enquête a expiré',
    completedTitle: 'Enquête déjà remplie',
    completed: 'Vous avez déjà répondu à cette enquête — merci',
    linkInvalidTitle: 'Lien non valide',
    linkInvalid: 'Ce lien vers l’enquête n’est pas valide',
    optOut: 'Ne plus recevoir d’enquêtes par e-mail',
    optOutConfirm: 'Confirmez, et nous ne vous enverrons plus d’enquêtes par e-mail.',
    optedOutTitle: 'Désinscription confirmée',
    optedOut: 'Vous ne recevrez plus d’enquêtes par e-mail',
    takeSurvey: 'Répondre à l’enquête',
    orAnswerHere: `Ou répondez directement ici${NBSP}:`,
    answerSaved: 'Votre réponse a été enregistrée',
    reminderPrefix: `Rappel${NBSP}: `,
  },
  es: {
    next: 'Siguiente',
    submit: 'Enviar',
    skip: 'Omitir',
    progress: (position, total) => `Pregunta ${position} de ${total}`,
    required: 'Esta pregunta requiere una respuesta',
    invalidAnswer: 'Esta respuesta no es válida',
    chooseOne: 'Elija una opción',
    chooseAny: 'Elija todas las que correspondan',
    optional: 'opcional',
    yourAnswer: 'Su respuesta',
    maxLength: (n) => `Hasta ${n} caracteres`,
    linkExpiredTitle: 'Enlace caducado',
    linkExpired: 'Este enlace de la encuesta ha caducado',
    completedTitle: 'Encuesta ya completada',
    completed: 'Esta encuesta ya se ha completado — gracias',
    linkInvalidTitle: 'Enlace no válido',
    linkInvalid: 'Este enlace de la encuesta no es válido',
    optOut: 'No recibir más encuestas por correo electrónico',
    optOutConfirm: 'Confírmelo y no le enviaremos más encuestas por correo electrónico.',
    optedOutTitle: 'Baja confirmada',
    optedOut: 'Ya no recibirá encuestas por correo electrónico',
    takeSurvey: 'Responder a la encuesta',
    orAnswerHere: 'O responda aquí mismo:',
    answerSaved: 'Su respuesta se ha guardado',
    reminderPrefix: 'Recordatorio: ',
  },
  nl: {
    next: 'Volgende',
    submit: 'Versturen',
    skip: 'Overslaan',
    progress: (position, total) => `Vraag ${position} van ${total}`,
    required: 'Deze vraag moet worden beantwoord',
    invalidAnswer: 'Dit antwoord is niet geldig',
    chooseOne: 'Kies één antwoord',
    chooseAny: 'Meerdere antwoorden mogelijk',
    optional: 'optioneel',
    yourAnswer: 'Uw antwoord',
    maxLength: (n) => `Maximaal ${n} tekens`,
    linkExpiredTitle: 'Link verlopen',
    linkExpired: 'Deze enquêtelink is verlopen',
    completedTitle: 'Al ingevuld',
    completed: 'Deze enquête is al ingevuld — hartelijk dank',
    linkInvalidTitle: 'Ongeldige link',
    linkInvalid: 'Deze enquêtelink is niet geldig',
    optOut: 'Geen enquêtes meer ontvangen per e-mail',
    optOutConfirm: 'Bevestig het, dan sturen wij u geen enquêtes meer per e-mail.',
    optedOutTitle: 'Afgemeld',
    optedOut: 'U ontvangt geen enquêtes meer per e-mail',
    takeSurvey: 'Naar de enquête',
    orAnswerHere: 'Of antwoord direct hier:',
    answerSaved: 'Uw antwoord is opgeslagen',
    reminderPrefix: 'Herinnering: ',
  },
  it: {
    next: 'Avanti',
    submit: 'Invia',
    skip: 'Salta',
    progress: (position, total) => `Domanda ${position} di ${total}`,
    required: 'Questa domanda richiede una risposta',
    invalidAnswer: 'Questa risposta non è valida',
    chooseOne: 'Una sola risposta',
    chooseAny: 'Più risposte possibili',
    optional: 'facoltativa',
    yourAnswer: 'La sua risposta',
    maxLength: (n) => `Massimo ${n} caratteri`,
    linkExpiredTitle: 'Link scaduto',
    linkExpired: 'Questo link al sondaggio è scaduto',
    completedTitle: 'Sondaggio già completato',
    completed: 'Questo sondaggio è già stato completato — grazie',
    linkInvalidTitle: 'Link non valido',
    linkInvalid: 'Questo link al sondaggio non è valido',
    optOut: 'Non ricevere più sondaggi via e-mail',
    optOutConfirm: 'Confermi e non le invieremo più sondaggi via e-mail.',
    optedOutTitle: 'Iscrizione annullata',
    optedOut: 'Non riceverà più sondaggi via e-mail',
    takeSurvey: 'Vai al sondaggio',
    orAnswerHere: 'Oppure risponda direttamente qui:',
    answerSaved: 'La sua risposta è stata salvata',
    reminderPrefix: 'Promemoria: ',
  },
  pt: {
    next: 'Próxima',
    submit: 'Enviar',
    skip: 'Pular',
    progress: (position, total) => `Pergunta ${position} de ${total}`,
    required: 'Esta pergunta precisa de uma resposta',
    invalidAnswer: 'Esta resposta não é válida',
    chooseOne: 'Escolha uma opção',
    chooseAny: 'Escolha quantas quiser',
    optional: 'opcional',
    yourAnswer: 'Sua resposta',
    maxLength: (n) => `Até ${n} caracteres`,
    linkExpiredTitle: 'Link expirado',
    linkExpired: 'Este link da pesquisa expirou',
    completedTitle: 'Pesquisa já respondida',
    completed: 'Esta pesquisa já foi respondida — obrigado',
    linkInvalidTitle: 'Link inválido',
    linkInvalid: 'Este link da pesquisa não é válido',
    optOut: 'Não receber mais pesquisas por e-mail',
    optOutConfirm: 'Confirme e não enviaremos mais pesquisas por e-mail para você.',
    optedOutTitle: 'Descadastro confirmado',
    optedOut: 'Você não receberá mais pesquisas por e-mail',
    takeSurvey: 'Responder à pesquisa',
    orAnswerHere: 'Ou responda aqui mesmo:',
    answerSaved: 'Sua resposta foi salva',
    reminderPrefix: 'Lembrete: ',
  },
};

const isUiLanguage = (code: string): code is UiLanguage => (UI_LANGUAGES as readonly string[]).includes(code);

/**
 * The dictionary language for a language tag: the primary subtag when there is a dictionary for
 * it ("de-AT" and "de_CH" → "de", "PT-br" → "pt"), else "en".
 */
export const uiLanguage = (language: string): UiLanguage => {
  const primary = language.trim().toLowerCase().split(/[-_]/)[0] ?? '';
  return isUiLanguage(primary) ? primary : 'en';
};

/** The survey pages' own words in `language`, falling back by primary subtag, then to English. */
export const uiText = (language: string): UiText => UI_TEXT[uiLanguage(language)];

/** A number formatted for the language of the dictionary ("5,000", "5.000", "5 000"). */
export const formatUiNumber = (value: number, language: string): string =>
  new Intl.NumberFormat(uiLanguage(language)).format(value);
