// UK tax years (6 April to 5 April, written '2019-20') and the capital gains annual exempt amount of each.

/** A UK tax year as written by HMRC: '2019-20' runs from 6 April 2019 to 5 April 2020. */
export type TaxYear = string;

export interface TaxYearSpan {
  year: TaxYear;
  /** first and last day, YYYY-MM-DD */
  start: string;
  end: string;
}

/**
 * The individual's annual exempt amount (TCGA 1992 s.3), in GBP, as HMRC publishes it. 2018-19..2024-25 are
 * ../shared/fixtures/cgt-cases.json's figures (a test checks they agree); the earlier years (the Oanda rates
 * in the sample start in 2007) and 2025-26 are HMRC's published rates and allowances.
 */
export const ANNUAL_EXEMPT_AMOUNT: Readonly<Record<TaxYear, number>> = {
  '2007-08': 9200,
  '2008-09': 9600,
  '2009-10': 10100,
  '2010-11': 10100,
  '2011-12': 10600,
  '2012-13': 10600,
  '2013-14': 10900,
  '2014-15': 11000,
  '2015-16': 11100,
  '2016-17': 11100,
  '2017-18': 11300,
  '2018-19': 11700,
  '2019-20': 12000,
  '2020-21': 12300,
  '2021-22': 12300,
  '2022-23': 12300,
  '2023-24': 6000,
  '2024-25': 3000,
  '2025-26': 3000,
};

/** The annual exempt amount of a tax year, or undefined when the table does not have it. */
export function annualExemptAmount(year: TaxYear): number | undefined {
  return Object.hasOwn(ANNUAL_EXEMPT_AMOUNT, year) ? ANNUAL_EXEMPT_AMOUNT[year] : undefined;
}

/** The tax year a date (YYYY-MM-DD) falls in: 2019-04-05 is in 2018-19, 2019-04-06 in 2019-20. */
export function taxYearOf(date: string): TaxYear {
  const y = Number(date.slice(0, 4));
  const md = date.slice(5);
  const start = md >= '04-06' ? y : y - 1;
  return `${start}-${String((start + 1) % 100).padStart(2, '0')}`;
}

/** '2019-20' -> its span; anything else (2019/20, 2019-2020, 2019-21) is an error that says the form. */
export function parseTaxYear(s: string): TaxYearSpan {
  const m = /^(\d{4})-(\d{2})$/.exec(s);
  const start = m ? Number(m[1]) : NaN;
  if (!m || (start + 1) % 100 !== Number(m[2]) || start < 1900)
    throw new Error(
      `tax year '${s}' must be written YYYY-YY, the year it starts (6 April) and the last two digits of the next, e.g. 2019-20 (6 April 2019 to 5 April 2020)`,
    );
  return { year: s, start: `${start}-04-06`, end: `${start + 1}-04-05` };
}
