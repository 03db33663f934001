// The tables of stringprep (RFC 3454), on which XMPP's nodeprep (JID local parts) and resourceprep
// (resources, so MUC nicks) rest: the code points Unicode 3.2 assigns, those both profiles prohibit,
// and the bidi rule. A server that applies them strictly (ejabberd) refuses a JID that breaks them.
// The assigned code points, generated with Python's unicodedata.ucd_3_2_0: every run whose category is not Cn.
const RANGES = [
  "\\u{0}-\\u{220}\\u{222}-\\u{233}\\u{250}-\\u{2AD}\\u{2B0}-\\u{2EE}\\u{300}-\\u{34F}\\u{360}-\\u{36F}\\u{374}-\\u{375}\\u{37A}\\u{37E}\\u{384}-\\u{38A}\\u{38C}",
  "\\u{38E}-\\u{3A1}\\u{3A3}-\\u{3CE}\\u{3D0}-\\u{3F6}\\u{400}-\\u{486}\\u{488}-\\u{4CE}\\u{4D0}-\\u{4F5}\\u{4F8}-\\u{4F9}\\u{500}-\\u{50F}\\u{531}-\\u{556}\\u{559}-\\u{55F}",
  "\\u{561}-\\u{587}\\u{589}-\\u{58A}\\u{591}-\\u{5A1}\\u{5A3}-\\u{5B9}\\u{5BB}-\\u{5C4}\\u{5D0}-\\u{5EA}\\u{5F0}-\\u{5F4}\\u{60C}\\u{61B}\\u{61F}\\u{621}-\\u{63A}",
  "\\u{640}-\\u{655}\\u{660}-\\u{6ED}\\u{6F0}-\\u{6FE}\\u{700}-\\u{70D}\\u{70F}-\\u{72C}\\u{730}-\\u{74A}\\u{780}-\\u{7B1}\\u{901}-\\u{903}\\u{905}-\\u{939}\\u{93C}-\\u{94D}",
  "\\u{950}-\\u{954}\\u{958}-\\u{970}\\u{981}-\\u{983}\\u{985}-\\u{98C}\\u{98F}-\\u{990}\\u{993}-\\u{9A8}\\u{9AA}-\\u{9B0}\\u{9B2}\\u{9B6}-\\u{9B9}\\u{9BC}\\u{9BE}-\\u{9C4}",
  "\\u{9C7}-\\u{9C8}\\u{9CB}-\\u{9CD}\\u{9D7}\\u{9DC}-\\u{9DD}\\u{9DF}-\\u{9E3}\\u{9E6}-\\u{9FA}\\u{A02}\\u{A05}-\\u{A0A}\\u{A0F}-\\u{A10}\\u{A13}-\\u{A28}\\u{A2A}-\\u{A30}",
  "\\u{A32}-\\u{A33}\\u{A35}-\\u{A36}\\u{A38}-\\u{A39}\\u{A3C}\\u{A3E}-\\u{A42}\\u{A47}-\\u{A48}\\u{A4B}-\\u{A4D}\\u{A59}-\\u{A5C}\\u{A5E}\\u{A66}-\\u{A74}\\u{A81}-\\u{A83}",
  "\\u{A85}-\\u{A8B}\\u{A8D}\\u{A8F}-\\u{A91}\\u{A93}-\\u{AA8}\\u{AAA}-\\u{AB0}\\u{AB2}-\\u{AB3}\\u{AB5}-\\u{AB9}\\u{ABC}-\\u{AC5}\\u{AC7}-\\u{AC9}\\u{ACB}-\\u{ACD}\\u{AD0}",
  "\\u{AE0}\\u{AE6}-\\u{AEF}\\u{B01}-\\u{B03}\\u{B05}-\\u{B0C}\\u{B0F}-\\u{B10}\\u{B13}-\\u{B28}\\u{B2A}-\\u{B30}\\u{B32}-\\u{B33}\\u{B36}-\\u{B39}\\u{B3C}-\\u{B43}",
  "\\u{B47}-\\u{B48}\\u{B4B}-\\u{B4D}\\u{B56}-\\u{B57}\\u{B5C}-\\u{B5D}\\u{B5F}-\\u{B61}\\u{B66}-\\u{B70}\\u{B82}-\\u{B83}\\u{B85}-\\u{B8A}\\u{B8E}-\\u{B90}\\u{B92}-\\u{B95}",
  "\\u{B99}-\\u{B9A}\\u{B9C}\\u{B9E}-\\u{B9F}\\u{BA3}-\\u{BA4}\\u{BA8}-\\u{BAA}\\u{BAE}-\\u{BB5}\\u{BB7}-\\u{BB9}\\u{BBE}-\\u{BC2}\\u{BC6}-\\u{BC8}\\u{BCA}-\\u{BCD}\\u{BD7}",
  "\\u{BE7}-\\u{BF2}\\u{C01}-\\u{C03}\\u{C05}-\\u{C0C}\\u{C0E}-\\u{C10}\\u{C12}-\\u{C28}\\u{C2A}-\\u{C33}\\u{C35}-\\u{C39}\\u{C3E}-\\u{C44}\\u{C46}-\\u{C48}\\u{C4A}-\\u{C4D}",
  "\\u{C55}-\\u{C56}\\u{C60}-\\u{C61}\\u{C66}-\\u{C6F}\\u{C82}-\\u{C83}\\u{C85}-\\u{C8C}\\u{C8E}-\\u{C90}\\u{C92}-\\u{CA8}\\u{CAA}-\\u{CB3}\\u{CB5}-\\u{CB9}\\u{CBE}-\\u{CC4}",
  "\\u{CC6}-\\u{CC8}\\u{CCA}-\\u{CCD}\\u{CD5}-\\u{CD6}\\u{CDE}\\u{CE0}-\\u{CE1}\\u{CE6}-\\u{CEF}\\u{D02}-\\u{D03}\\u{D05}-\\u{D0C}\\u{D0E}-\\u{D10}\\u{D12}-\\u{D28}",
  "\\u{D2A}-\\u{D39}\\u{D3E}-\\u{D43}\\u{D46}-\\u{D48}\\u{D4A}-\\u{D4D}\\u{D57}\\u{D60}-\\u{D61}\\u{D66}-\\u{D6F}\\u{D82}-\\u{D83}\\u{D85}-\\u{D96}\\u{D9A}-\\u{DB1}",
  "\\u{DB3}-\\u{DBB}\\u{DBD}\\u{DC0}-\\u{DC6}\\u{DCA}\\u{DCF}-\\u{DD4}\\u{DD6}\\u{DD8}-\\u{DDF}\\u{DF2}-\\u{DF4}\\u{E01}-\\u{E3A}\\u{E3F}-\\u{E5B}\\u{E81}-\\u{E82}\\u{E84}",
  "\\u{E87}-\\u{E88}\\u{E8A}\\u{E8D}\\u{E94}-\\u{E97}\\u{E99}-\\u{E9F}\\u{EA1}-\\u{EA3}\\u{EA5}\\u{EA7}\\u{EAA}-\\u{EAB}\\u{EAD}-\\u{EB9}\\u{EBB}-\\u{EBD}\\u{EC0}-\\u{EC4}",
  "\\u{EC6}\\u{EC8}-\\u{ECD}\\u{ED0}-\\u{ED9}\\u{EDC}-\\u{EDD}\\u{F00}-\\u{F47}\\u{F49}-\\u{F6A}\\u{F71}-\\u{F8B}\\u{F90}-\\u{F97}\\u{F99}-\\u{FBC}\\u{FBE}-\\u{FCC}\\u{FCF}",
  "\\u{1000}-\\u{1021}\\u{1023}-\\u{1027}\\u{1029}-\\u{102A}\\u{102C}-\\u{1032}\\u{1036}-\\u{1039}\\u{1040}-\\u{1059}\\u{10A0}-\\u{10C5}\\u{10D0}-\\u{10F8}\\u{10FB}",
  "\\u{1100}-\\u{1159}\\u{115F}-\\u{11A2}\\u{11A8}-\\u{11F9}\\u{1200}-\\u{1206}\\u{1208}-\\u{1246}\\u{1248}\\u{124A}-\\u{124D}\\u{1250}-\\u{1256}\\u{1258}",
  "\\u{125A}-\\u{125D}\\u{1260}-\\u{1286}\\u{1288}\\u{128A}-\\u{128D}\\u{1290}-\\u{12AE}\\u{12B0}\\u{12B2}-\\u{12B5}\\u{12B8}-\\u{12BE}\\u{12C0}\\u{12C2}-\\u{12C5}",
  "\\u{12C8}-\\u{12CE}\\u{12D0}-\\u{12D6}\\u{12D8}-\\u{12EE}\\u{12F0}-\\u{130E}\\u{1310}\\u{1312}-\\u{1315}\\u{1318}-\\u{131E}\\u{1320}-\\u{1346}\\u{1348}-\\u{135A}",
  "\\u{1361}-\\u{137C}\\u{13A0}-\\u{13F4}\\u{1401}-\\u{1676}\\u{1680}-\\u{169C}\\u{16A0}-\\u{16F0}\\u{1700}-\\u{170C}\\u{170E}-\\u{1714}\\u{1720}-\\u{1736}",
  "\\u{1740}-\\u{1753}\\u{1760}-\\u{176C}\\u{176E}-\\u{1770}\\u{1772}-\\u{1773}\\u{1780}-\\u{17DC}\\u{17E0}-\\u{17E9}\\u{1800}-\\u{180E}\\u{1810}-\\u{1819}",
  "\\u{1820}-\\u{1877}\\u{1880}-\\u{18A9}\\u{1E00}-\\u{1E9B}\\u{1EA0}-\\u{1EF9}\\u{1F00}-\\u{1F15}\\u{1F18}-\\u{1F1D}\\u{1F20}-\\u{1F45}\\u{1F48}-\\u{1F4D}",
  "\\u{1F50}-\\u{1F57}\\u{1F59}\\u{1F5B}\\u{1F5D}\\u{1F5F}-\\u{1F7D}\\u{1F80}-\\u{1FB4}\\u{1FB6}-\\u{1FC4}\\u{1FC6}-\\u{1FD3}\\u{1FD6}-\\u{1FDB}\\u{1FDD}-\\u{1FEF}",
  "\\u{1FF2}-\\u{1FF4}\\u{1FF6}-\\u{1FFE}\\u{2000}-\\u{2052}\\u{2057}\\u{205F}-\\u{2063}\\u{206A}-\\u{2071}\\u{2074}-\\u{208E}\\u{20A0}-\\u{20B1}\\u{20D0}-\\u{20EA}",
  "\\u{2100}-\\u{213A}\\u{213D}-\\u{214B}\\u{2153}-\\u{2183}\\u{2190}-\\u{23CE}\\u{2400}-\\u{2426}\\u{2440}-\\u{244A}\\u{2460}-\\u{24FE}\\u{2500}-\\u{2613}",
  "\\u{2616}-\\u{2617}\\u{2619}-\\u{267D}\\u{2680}-\\u{2689}\\u{2701}-\\u{2704}\\u{2706}-\\u{2709}\\u{270C}-\\u{2727}\\u{2729}-\\u{274B}\\u{274D}\\u{274F}-\\u{2752}",
  "\\u{2756}\\u{2758}-\\u{275E}\\u{2761}-\\u{2794}\\u{2798}-\\u{27AF}\\u{27B1}-\\u{27BE}\\u{27D0}-\\u{27EB}\\u{27F0}-\\u{2AFF}\\u{2E80}-\\u{2E99}\\u{2E9B}-\\u{2EF3}",
  "\\u{2F00}-\\u{2FD5}\\u{2FF0}-\\u{2FFB}\\u{3000}-\\u{303F}\\u{3041}-\\u{3096}\\u{3099}-\\u{30FF}\\u{3105}-\\u{312C}\\u{3131}-\\u{318E}\\u{3190}-\\u{31B7}",
  "\\u{31F0}-\\u{321C}\\u{3220}-\\u{3243}\\u{3251}-\\u{327B}\\u{327F}-\\u{32CB}\\u{32D0}-\\u{32FE}\\u{3300}-\\u{3376}\\u{337B}-\\u{33DD}\\u{33E0}-\\u{33FE}",
  "\\u{3400}-\\u{4DB5}\\u{4E00}-\\u{9FA5}\\u{A000}-\\u{A48C}\\u{A490}-\\u{A4C6}\\u{AC00}-\\u{D7A3}\\u{D800}-\\u{FA2D}\\u{FA30}-\\u{FA6A}\\u{FB00}-\\u{FB06}",
  "\\u{FB13}-\\u{FB17}\\u{FB1D}-\\u{FB36}\\u{FB38}-\\u{FB3C}\\u{FB3E}\\u{FB40}-\\u{FB41}\\u{FB43}-\\u{FB44}\\u{FB46}-\\u{FBB1}\\u{FBD3}-\\u{FD3F}\\u{FD50}-\\u{FD8F}",
  "\\u{FD92}-\\u{FDC7}\\u{FDF0}-\\u{FDFC}\\u{FE00}-\\u{FE0F}\\u{FE20}-\\u{FE23}\\u{FE30}-\\u{FE46}\\u{FE49}-\\u{FE52}\\u{FE54}-\\u{FE66}\\u{FE68}-\\u{FE6B}",
  "\\u{FE70}-\\u{FE74}\\u{FE76}-\\u{FEFC}\\u{FEFF}\\u{FF01}-\\u{FFBE}\\u{FFC2}-\\u{FFC7}\\u{FFCA}-\\u{FFCF}\\u{FFD2}-\\u{FFD7}\\u{FFDA}-\\u{FFDC}\\u{FFE0}-\\u{FFE6}",
  "\\u{FFE8}-\\u{FFEE}\\u{FFF9}-\\u{FFFD}\\u{10300}-\\u{1031E}\\u{10320}-\\u{10323}\\u{10330}-\\u{1034A}\\u{10400}-\\u{10425}\\u{10428}-\\u{1044D}\\u{1D000}-\\u{1D0F5}",
  "\\u{1D100}-\\u{1D126}\\u{1D12A}-\\u{1D1DD}\\u{1D400}-\\u{1D454}\\u{1D456}-\\u{1D49C}\\u{1D49E}-\\u{1D49F}\\u{1D4A2}\\u{1D4A5}-\\u{1D4A6}\\u{1D4A9}-\\u{1D4AC}",
  "\\u{1D4AE}-\\u{1D4B9}\\u{1D4BB}\\u{1D4BD}-\\u{1D4C0}\\u{1D4C2}-\\u{1D4C3}\\u{1D4C5}-\\u{1D505}\\u{1D507}-\\u{1D50A}\\u{1D50D}-\\u{1D514}\\u{1D516}-\\u{1D51C}",
  "\\u{1D51E}-\\u{1D539}\\u{1D53B}-\\u{1D53E}\\u{1D540}-\\u{1D544}\\u{1D546}\\u{1D54A}-\\u{1D550}\\u{1D552}-\\u{1D6A3}\\u{1D6A8}-\\u{1D7C9}\\u{1D7CE}-\\u{1D7FF}",
  "\\u{20000}-\\u{2A6D6}\\u{2F800}-\\u{2FA1D}\\u{E0001}\\u{E0020}-\\u{E007F}\\u{F0000}-\\u{FFFFD}\\u{100000}-\\u{10FFFD}",
].join("");

/** A code point that is not assigned in Unicode 3.2. */
export const UNASSIGNED_IN_3_2 = new RegExp(`[^${RANGES}]`, "gu");

/** RFC 3454's tables of prohibited characters that nodeprep and resourceprep both use. */
const PROHIBITED_TABLES = [
  "\\u00A0\\u1680\\u2000-\\u200B\\u202F\\u205F\\u3000", // C.1.2 spaces other than ASCII's
  "\\p{Cc}\\u06DD\\u070F\\u180E\\u200C\\u200D\\u2028\\u2029\\u2060-\\u2063\\u206A-\\u206F\\uFEFF\\uFFF9-\\uFFFC\\u{1D173}-\\u{1D17A}", // C.2 controls
  "\\p{Co}", // C.3 private use
  "\\p{Noncharacter_Code_Point}", // C.4
  "\\p{Cs}", // C.5 surrogates
  "\\uFFF9-\\uFFFD", // C.6 inappropriate for plain text
  "\\u2FF0-\\u2FFB", // C.7 ideographic description
  "\\u0340\\u0341\\u200E\\u200F\\u202A-\\u202E\\u206A-\\u206F", // C.8 bidi marks, embeddings, overrides; deprecated
  "\\u{E0001}\\u{E0020}-\\u{E007F}", // C.9 tags
].join("");

/** A character stringprep prohibits in nodeprep and resourceprep alike (RFC 3454 C.1.2 to C.9). */
export const STRINGPREP_PROHIBITED = new RegExp(`[${PROHIBITED_TABLES}]`, "u");

const RTL = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF\u{10800}-\u{10FFF}\u{1E800}-\u{1EFFF}]/u;

/** RFC 3454 §6: a string with right-to-left characters has no left-to-right letters, and begins
 *  and ends with a right-to-left character. */
export function followsBidiRule(text: string): boolean {
  if (!RTL.test(text)) return true;
  const chars = Array.from(text);
  if (!RTL.test(chars[0]!) || !RTL.test(chars.at(-1)!)) return false;
  return chars.every((char) => RTL.test(char) || !/\p{L}/u.test(char));
}
