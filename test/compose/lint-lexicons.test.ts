// The MJ-9 category lexicons and the MJ-3 spam lexicons: every category
// found in each language, accents and case ignored, word boundaries kept
// (no "casino" in "occasion", no "poker" in "pokemon"), innocent words left
// alone, explainable hits, and the data files' shape.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileLexicons, lint, type Finding } from '../../src/compose/lint/index.ts';
import catEn from '../../src/policy/data/lexicons/categories-en.json' with { type: 'json' };
import catFr from '../../src/policy/data/lexicons/categories-fr.json' with { type: 'json' };
import catEs from '../../src/policy/data/lexicons/categories-es.json' with { type: 'json' };
import spamEn from '../../src/policy/data/lexicons/spam-en.json' with { type: 'json' };
import spamFr from '../../src/policy/data/lexicons/spam-fr.json' with { type: 'json' };
import spamEs from '../../src/policy/data/lexicons/spam-es.json' with { type: 'json' };
import { CLEAN } from './lint-fixtures.ts';

const CATEGORIES = ['gambling', 'adult', 'weapons', 'tobacco', 'drugs', 'politics', 'hacking', 'penny-stocks', 'forex-crypto',
  'payday-loans', 'debt-collection', 'clairvoyance', 'lead-selling', 'affiliate-marketing', 'paid-surgery', 'real-estate', 'get-rich-quick'];

// one sentence per category and language, as a sender would write it
const SAMPLES: Record<'en' | 'fr' | 'es', Record<string, string>> = {
  en: {
    'gambling': 'Join our online casino tonight and play poker.',
    'adult': 'Hot singles in your area want adult dating.',
    'weapons': 'Handguns and ammunition at our gun store.',
    'tobacco': 'New e-liquid flavours for your vape.',
    'drugs': 'Buy Viagra without prescription from our online pharmacy.',
    'politics': 'Make a campaign contribution before election day.',
    'hacking': 'Hire a hacker, get cracked software and keygens.',
    'penny-stocks': 'This penny stock is about to explode.',
    'forex-crypto': 'Forex and Bitcoin trading signals every morning.',
    'payday-loans': 'Payday loans with no credit check.',
    'debt-collection': 'Our debt collection agency will recover your debts.',
    'clairvoyance': 'Our psychic reads the tarot and your horoscope.',
    'lead-selling': 'Buy email lists: verified leads for sale.',
    'affiliate-marketing': 'Join our affiliate program and earn commissions.',
    'paid-surgery': 'Liposuction and breast augmentation at a discount.',
    'real-estate': 'Off-plan condos with guaranteed rental income.',
    'get-rich-quick': 'Get rich quick with passive income.',
  },
  fr: {
    'gambling': 'Pariez en ligne sur notre casino et ses machines à sous.',
    'adult': 'Rencontres coquines et contenus pour adultes.',
    'weapons': 'Armurerie : armes de poing et munitions.',
    'tobacco': 'Cigarettes électroniques et e-liquides.',
    'drugs': 'Médicaments sans ordonnance livrés chez vous.',
    'politics': 'Votez pour notre liste aux élections municipales.',
    'hacking': 'Piratage de comptes et logiciels crackés.',
    'penny-stocks': 'Nos conseils boursiers : une action qui va exploser.',
    'forex-crypto': 'Formation forex et cryptomonnaies.',
    'payday-loans': 'Crédit rapide même fiché Banque de France.',
    'debt-collection': 'Notre cabinet de recouvrement vous adresse une mise en demeure.',
    'clairvoyance': 'Consultation de voyance et tirage du tarot.',
    'lead-selling': 'Achat de fichiers de prospects B2B.',
    'affiliate-marketing': 'Rejoignez notre programme d’affiliation.',
    'paid-surgery': 'Chirurgie esthétique : liposuccion et rhinoplastie.',
    'real-estate': 'Investissement locatif en loi Pinel.',
    'get-rich-quick': 'Devenez riche grâce aux revenus passifs.',
  },
  es: {
    'gambling': 'Apuestas deportivas y giros gratis en nuestro casino.',
    'adult': 'Contenido para adultos y citas para adultos.',
    'weapons': 'Armería online: armas de fuego y munición.',
    'tobacco': 'Tabaco de liar y cigarrillos electrónicos.',
    'drugs': 'Medicamentos sin receta médica.',
    'politics': 'Campaña electoral para las elecciones municipales.',
    'hacking': 'Hackear cuentas y software pirata.',
    'penny-stocks': 'Acciones especulativas: chicharros con potencial.',
    'forex-crypto': 'Opciones binarias y criptomonedas.',
    'payday-loans': 'Minicréditos y préstamos rápidos al instante.',
    'debt-collection': 'Agencia de cobro de deudas pendientes.',
    'clairvoyance': 'Vidente y tarot por teléfono.',
    'lead-selling': 'Venta de bases de datos de emails.',
    'affiliate-marketing': 'Únete a nuestro programa de afiliados.',
    'paid-surgery': 'Cirugía estética y aumento de pecho.',
    'real-estate': 'Promoción inmobiliaria con rentabilidad garantizada.',
    'get-rich-quick': 'Hazte rico con ingresos pasivos.',
  },
};

/** The clean message of that language with one sentence added to both parts. */
async function categoriesOf(lang: 'en' | 'fr' | 'es', sentence: string): Promise<Finding[]> {
  const base = CLEAN[lang];
  const input = { ...base, html: `${base.html}<p>${sentence}</p>`, text: `${base.text}\n${sentence}` };
  return (await lint(input)).filter((f) => f.id.startsWith('category.'));
}

describe('every category, in every language', () => {
  for (const lang of ['en', 'fr', 'es'] as const) {
    for (const category of CATEGORIES) {
      const sentence = SAMPLES[lang][category];
      test(`${lang} ${category}: "${sentence}"`, async () => {
        const findings = await categoriesOf(lang, sentence);
        assert.deepEqual(findings.map((f) => f.id), [`category.${category}`]);
        const [f] = findings;
        assert.equal(f.severity, 'review');
        assert.deepEqual(f.requirements, ['MJ-9']);
        assert.ok(f.hits && f.hits.length > 0);
        for (const h of f.hits) {
          assert.ok(h.excerpt.length <= 120 && h.excerpt.length > 0);
          assert.ok(['html', 'text'].includes(h.where));
        }
        assert.ok(f.fix.includes('operator'));
      });
    }
  }
});

describe('accents and case are ignored', () => {
  const cases: [string, string][] = [
    ['Nos médicaments', 'medicament*'], ['NOS MÉDICAMENTS', 'medicament*'], ['nos medicaments sans accent', 'medicament*'],
    ['Medicamentos genéricos', 'medicament*'], ['MEDICAMENTOS', 'medicament*'], ['medicaméntos', 'medicament*'],
    ['Un crédit rapide', 'credit rapide'], ['Campaña electoral', 'campana electoral'], ['CIGARETTES ÉLECTRONIQUES', 'cigarettes electroniques'],
    ['programme d’affiliation', "programme d'affiliation"], ['cœur de voyance', 'voyance'],
  ];
  for (const [text, term] of cases) {
    test(`"${text}" hits ${term}`, async () => {
      const findings = await categoriesOf('fr', text);
      const terms = findings.flatMap((f) => f.hits!.map((h) => h.term.normalize('NFD').replace(/\p{M}/gu, '')));
      assert.ok(terms.includes(term), `${JSON.stringify(findings.map((f) => f.hits))}`);
    });
  }
  test('the excerpt keeps the sender\'s own spelling', async () => {
    const [f] = await categoriesOf('fr', 'Nos MÉDICAMENTS génériques');
    assert.match(f.excerpt!, /MÉDICAMENTS/);
  });
});

describe('innocent words are left alone', () => {
  const innocent: [string, 'en' | 'fr' | 'es'][] = [
    ['Une belle occasion de découvrir nos confitures.', 'fr'],
    ['Scunthorpe, Sussex and Essex fans, welcome; a therapist, an analysis, a cocktail class.', 'en'],
    ['Pokemon cards are back in stock.', 'en'],
    ['Time slots are open for our growth hacking workshop.', 'en'],
    ['Our escorted tours of Rome; a lipstick in a nude shade; a glue gun.', 'en'],
    ['Un cours de cryptographie; the cryptographic library.', 'fr'],
    ['Un pistolet à colle et une grenade bien mûre.', 'fr'],
    ['Le voyant lumineux de votre machine; une couleur voyante.', 'fr'],
    ['Un week-end à Paris; misez sur la qualité; une valise à roulettes.', 'fr'],
    ['Des prix explosifs ; un ballotin de chocolats ; le torrent de montagne.', 'fr'],
    ['Votre affiliation à la sécurité sociale; soins médicaux; la droguerie du village.', 'fr'],
    ['Un paysage stupéfiant, Pornic et Pornichet, des fusilli.', 'fr'],
    ['Arma tu menú con nuestra apuesta por la calidad.', 'es'],
    ['La heroína de la novela; chicharrón y la campana de la iglesia.', 'es'],
    ['Afiliado a la Seguridad Social; disfraz de bruja; una granada madura.', 'es'],
    ['Vota por tu producto favorito; una obra nueva de teatro.', 'es'],
  ];
  for (const [text, lang] of innocent) {
    test(`no category in "${text}"`, async () => {
      assert.deepEqual((await categoriesOf(lang, text)).map((f) => f.hits), []);
    });
  }
});

describe('explainable hits', () => {
  test('each hit names its term, language and place, with the text around it', async () => {
    const long = `${'Nos confitures sont cuites lentement dans notre atelier. '.repeat(4)}Et ce soir, soirée poker au salon de thé. ${'La rhubarbe vient du jardin. '.repeat(4)}`;
    const [f] = await categoriesOf('fr', long);
    assert.equal(f.id, 'category.gambling');
    assert.match(f.message, /"poker" ×2/); // once in the HTML, once in the text part
    const h = f.hits![0];
    assert.equal(h.term, 'poker');
    assert.ok(['en', 'fr', 'es'].includes(h.language));
    assert.ok(h.excerpt.startsWith('…') && h.excerpt.endsWith('…') && h.excerpt.length <= 120);
    assert.match(h.excerpt, /soirée poker au salon/);
  });

  test('a hit in a link address is found and shown', async () => {
    const base = CLEAN.fr;
    const findings = (await lint({ ...base, html: `${base.html}<a href="https://www.best-casino.example/bonus">Nos offres</a>` }))
      .filter((f) => f.id.startsWith('category.'));
    assert.deepEqual(findings.map((f) => f.id), ['category.gambling']);
    assert.equal(findings[0].excerpt, 'www.best-casino.example/bonus');
  });

  test('a term in all three lexicons is one hit, not three', async () => {
    const [f] = await categoriesOf('en', 'A tarot night.');
    assert.equal(f.hits!.length, 2); // the HTML and the text part
  });
});

describe('lexicon files', () => {
  const files = { 'categories-en': catEn, 'categories-fr': catFr, 'categories-es': catEs, 'spam-en': spamEn, 'spam-fr': spamFr, 'spam-es': spamEs };
  for (const [name, file] of Object.entries(files)) {
    test(`${name} is versioned and says where its terms come from`, () => {
      assert.ok(Number.isInteger(file.version) && file.version >= 1);
      assert.ok(file._comment.length > 40);
      assert.equal(file.language, name.slice(-2));
    });
  }
  for (const [name, file] of Object.entries({ en: catEn, fr: catFr, es: catEs })) {
    test(`categories-${name} covers every MJ-9 category`, () => assert.deepEqual(Object.keys(file.categories).sort(), [...CATEGORIES].sort()));
  }
  test('an invalid lexicon is refused when compiled', () => {
    assert.throws(() => compileLexicons({ spam: [{ version: 1, language: 'en', _comment: 'x', terms: ['ca*sino'] }], categories: [] }));
    assert.throws(() => compileLexicons({ spam: [], categories: [{ version: 1, language: 'en', _comment: 'x', categories: { gambling: [] } }] }));
    assert.throws(() => compileLexicons({ spam: [{ language: 'en', _comment: 'x', terms: ['a'] }], categories: [] }));
  });
  test('lexicons are configuration: a custom one replaces the shipped ones', async () => {
    const lexicons = compileLexicons({ spam: [], categories: [{ version: 3, language: 'fr', _comment: 'test', categories: { 'jams': ['confiture*'] } }] });
    const findings = await lint(CLEAN.fr, { lexicons });
    assert.deepEqual(findings.filter((f) => f.id.startsWith('category.')).map((f) => f.id), ['category.jams']);
  });
});

describe('spam vocabulary', () => {
  test('terms are found in the subject of each language, case- and accent-insensitively', async () => {
    for (const [lang, subject, term] of [['fr', 'FÉLICITATIONS pour vos confitures', 'felicitations'], ['es', 'Enhorabuena: sandalias de verano', 'enhorabuena'], ['en', 'Congratulations on your autumn reading', 'congratulations']] as const) {
      const f = (await lint({ ...CLEAN[lang], subject })).find((x) => x.id === 'subject.spam-term');
      assert.ok(f, `${lang}: ${subject}`);
      assert.equal(f.hits![0].term, term);
    }
  });
  test('"winner" is not found in "winnerless" nor "urgent" in "insurgents"', async () => {
    const findings = await lint({ ...CLEAN.en, subject: 'Winnerless insurgents: three new novels for autumn' });
    assert.equal(findings.find((f) => f.id === 'subject.spam-term'), undefined);
  });
});
