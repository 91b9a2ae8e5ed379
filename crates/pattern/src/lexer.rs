//! Lexer: turns pattern text into tokens exactly as the STIX ANTLR grammar's lexer would
//! (longest match wins, ties go to the rule listed first; whitespace and comments skipped).
//! It owns token recognition only; it never decides whether a sequence of tokens is valid.

use std::fmt;

/// A token kind, named after the grammar's lexer rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// `-1`, `-0`
    IntNeg,
    /// `1`, `+1`
    IntPos,
    /// `-1.5`, `-.5`
    FloatNeg,
    /// `1.5`, `+.5`
    FloatPos,
    /// `h'ff00'`
    Hex,
    /// `b'AAEC'`
    Binary,
    /// `'text'`
    String,
    /// `true` / `false`
    Bool,
    /// `t'2016-01-01T00:00:00Z'`
    Timestamp,
    /// `AND`
    And,
    /// `OR`
    Or,
    /// `NOT`
    Not,
    /// `FOLLOWEDBY`
    FollowedBy,
    /// `LIKE`
    Like,
    /// `MATCHES`
    Matches,
    /// `ISSUPERSET`
    IsSuperset,
    /// `ISSUBSET`
    IsSubset,
    /// `EXISTS` (2.1 only; an identifier in 2.0)
    Exists,
    /// `LAST` (reserved)
    Last,
    /// `IN`
    In,
    /// `START`
    Start,
    /// `STOP`
    Stop,
    /// `SECONDS`
    Seconds,
    /// `WITHIN`
    Within,
    /// `REPEATS`
    Repeats,
    /// `TIMES`
    Times,
    /// An identifier without hyphens.
    IdentWithoutHyphen,
    /// An identifier containing a hyphen (only valid as an object type).
    IdentWithHyphen,
    /// `=` or `==`
    Eq,
    /// `!=` or `<>`
    Neq,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// A lone `'`
    Quote,
    /// `:`
    Colon,
    /// `.`
    Dot,
    /// `,`
    Comma,
    /// `)`
    RParen,
    /// `(`
    LParen,
    /// `]`
    RBrack,
    /// `[`
    LBrack,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `^`
    Power,
    /// `/`
    Divide,
    /// `*`
    Asterisk,
    /// Any other character.
    Invalid,
    /// End of input.
    Eof,
}

impl TokenKind {
    /// How the grammar names this token in "expected …" messages.
    pub fn describe(self) -> &'static str {
        use TokenKind::*;
        match self {
            IntNeg => "IntNegLiteral",
            IntPos => "IntPosLiteral",
            FloatNeg => "FloatNegLiteral",
            FloatPos => "FloatPosLiteral",
            Hex => "HexLiteral",
            Binary => "BinaryLiteral",
            String => "StringLiteral",
            Bool => "BoolLiteral",
            Timestamp => "TimestampLiteral",
            And => "'AND'",
            Or => "'OR'",
            Not => "'NOT'",
            FollowedBy => "'FOLLOWEDBY'",
            Like => "'LIKE'",
            Matches => "'MATCHES'",
            IsSuperset => "'ISSUPERSET'",
            IsSubset => "'ISSUBSET'",
            Exists => "'EXISTS'",
            Last => "'LAST'",
            In => "'IN'",
            Start => "'START'",
            Stop => "'STOP'",
            Seconds => "'SECONDS'",
            Within => "'WITHIN'",
            Repeats => "'REPEATS'",
            Times => "'TIMES'",
            IdentWithoutHyphen => "IdentifierWithoutHyphen",
            IdentWithHyphen => "IdentifierWithHyphen",
            Eq => "'='",
            Neq => "'!='",
            Lt => "'<'",
            Le => "'<='",
            Gt => "'>'",
            Ge => "'>='",
            Quote => "'''",
            Colon => "':'",
            Dot => "'.'",
            Comma => "','",
            RParen => "')'",
            LParen => "'('",
            RBrack => "']'",
            LBrack => "'['",
            Plus => "'+'",
            Minus => "'-'",
            Power => "'^'",
            Divide => "'/'",
            Asterisk => "'*'",
            Invalid => "an invalid character",
            Eof => "<EOF>",
        }
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// One token with its text and 1-based line / 0-based column (as ANTLR reports them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// What the token is.
    pub kind: TokenKind,
    /// The exact source text.
    pub text: &'a str,
    /// 1-based line.
    pub line: usize,
    /// 0-based column, counted in characters.
    pub column: usize,
}

/// Splits `input` into tokens; the last token is always [`TokenKind::Eof`].
/// `with_exists` is false for STIX 2.0, whose grammar has no `EXISTS` keyword.
pub fn tokenize(input: &str, with_exists: bool) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut pos = 0;
    let mut line = 1;
    let mut column = 0;
    while pos < input.len() {
        let rest = &input[pos..];
        let skipped = skip_len(rest);
        let len = if skipped > 0 {
            skipped
        } else {
            let (len, kind) = longest_token(rest, with_exists);
            tokens.push(Token {
                kind,
                text: &rest[..len],
                line,
                column,
            });
            len
        };
        for c in rest[..len].chars() {
            if c == '\n' {
                line += 1;
                column = 0;
            } else {
                column += 1;
            }
        }
        pos += len;
    }
    tokens.push(Token {
        kind: TokenKind::Eof,
        text: "",
        line,
        column,
    });
    tokens
}

fn is_ws(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t'
            | '\r'
            | '\n'
            | '\u{000B}'
            | '\u{000C}'
            | '\u{0085}'
            | '\u{00a0}'
            | '\u{1680}'
            | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

/// Length of whitespace or a comment at the start of `s`, 0 if none.
fn skip_len(s: &str) -> usize {
    let ws: usize = s
        .char_indices()
        .take_while(|(_, c)| is_ws(*c))
        .map(|(_, c)| c.len_utf8())
        .sum();
    if ws > 0 {
        return ws;
    }
    if let Some(body) = s.strip_prefix("/*") {
        if let Some(end) = body.find("*/") {
            return end + 4;
        }
    }
    if s.starts_with("//") {
        return s.find(['\r', '\n']).unwrap_or(s.len());
    }
    0
}

fn longest_token(s: &str, with_exists: bool) -> (usize, TokenKind) {
    use TokenKind::*;
    // Candidates in grammar rule order; the longest wins, the first on ties.
    let candidates: [(Option<usize>, TokenKind); 9] = [
        (int_len(s, true), IntNeg),
        (int_len(s, false), IntPos),
        (float_len(s, true), FloatNeg),
        (float_len(s, false), FloatPos),
        (quoted_len(s, 'h', hex_body_ok), Hex),
        (quoted_len(s, 'b', base64_body_ok), Binary),
        (string_len(s), String),
        (bool_len(s), Bool),
        (quoted_len(s, 't', timestamp_body_ok), Timestamp),
    ];
    let mut best: Option<(usize, TokenKind)> = None;
    for (len, kind) in candidates {
        if let Some(len) = len {
            if best.is_none_or(|(b, _)| len > b) {
                best = Some((len, kind));
            }
        }
    }
    let ident = ident_len(s);
    if let Some((without, with)) = ident {
        let word = &s[..without];
        let keyword = keyword(word, with_exists);
        let (len, kind) = if with > without {
            (with, IdentWithHyphen)
        } else {
            (without, keyword.unwrap_or(IdentWithoutHyphen))
        };
        if best.is_none_or(|(b, _)| len > b) {
            best = Some((len, kind));
        }
    }
    if let Some(best) = best {
        return best;
    }
    let two = s.get(..2);
    match two {
        Some("==") => return (2, Eq),
        Some("!=") | Some("<>") => return (2, Neq),
        Some("<=") => return (2, Le),
        Some(">=") => return (2, Ge),
        _ => {}
    }
    let c = s.chars().next().unwrap_or('\0');
    let kind = match c {
        '=' => Eq,
        '<' => Lt,
        '>' => Gt,
        '\'' => Quote,
        ':' => Colon,
        '.' => Dot,
        ',' => Comma,
        ')' => RParen,
        '(' => LParen,
        ']' => RBrack,
        '[' => LBrack,
        '+' => Plus,
        '-' => Minus,
        '^' => Power,
        '/' => Divide,
        '*' => Asterisk,
        _ => Invalid,
    };
    (c.len_utf8(), kind)
}

fn keyword(word: &str, with_exists: bool) -> Option<TokenKind> {
    use TokenKind::*;
    Some(match word {
        "AND" => And,
        "OR" => Or,
        "NOT" => Not,
        "FOLLOWEDBY" => FollowedBy,
        "LIKE" => Like,
        "MATCHES" => Matches,
        "ISSUPERSET" => IsSuperset,
        "ISSUBSET" => IsSubset,
        "EXISTS" if with_exists => Exists,
        "LAST" => Last,
        "IN" => In,
        "START" => Start,
        "STOP" => Stop,
        "SECONDS" => Seconds,
        "WITHIN" => Within,
        "REPEATS" => Repeats,
        "TIMES" => Times,
        _ => return None,
    })
}

fn digits(s: &[u8]) -> usize {
    s.iter().take_while(|b| b.is_ascii_digit()).count()
}

/// `'-' ('0' | [1-9][0-9]*)` or `'+'? ('0' | [1-9][0-9]*)`.
fn int_len(s: &str, negative: bool) -> Option<usize> {
    let b = s.as_bytes();
    let sign = match b.first() {
        Some(b'-') if negative => 1,
        Some(b'+') if !negative => 1,
        _ if negative => return None,
        _ => 0,
    };
    match b.get(sign) {
        Some(b'0') => Some(sign + 1),
        Some(b'1'..=b'9') => Some(sign + 1 + digits(&b[sign + 1..])),
        _ => None,
    }
}

/// `'-' [0-9]* '.' [0-9]+` or `'+'? [0-9]* '.' [0-9]+`.
fn float_len(s: &str, negative: bool) -> Option<usize> {
    let b = s.as_bytes();
    let sign = match b.first() {
        Some(b'-') if negative => 1,
        Some(b'+') if !negative => 1,
        _ if negative => return None,
        _ => 0,
    };
    let int = digits(&b[sign..]);
    if b.get(sign + int) != Some(&b'.') {
        return None;
    }
    let frac = digits(&b[sign + int + 1..]);
    (frac > 0).then_some(sign + int + 1 + frac)
}

/// A `prefix'…'` literal whose body (without quotes) satisfies `ok`.
fn quoted_len(s: &str, prefix: char, ok: fn(&str) -> bool) -> Option<usize> {
    let rest = s.strip_prefix(prefix)?.strip_prefix('\'')?;
    let end = rest.find('\'')?;
    ok(&rest[..end]).then_some(end + 3)
}

fn hex_body_ok(body: &str) -> bool {
    body.len().is_multiple_of(2) && body.bytes().all(|b| b.is_ascii_hexdigit())
}

fn base64_body_ok(body: &str) -> bool {
    let b = body.as_bytes();
    if b.is_empty() || !b.len().is_multiple_of(4) {
        return false;
    }
    let is_char = |c: &u8| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/';
    let pad = b.iter().rev().take_while(|c| **c == b'=').count();
    pad <= 2 && b[..b.len() - pad].iter().all(is_char)
}

/// Checks the grammar's TimestampLiteral body: `YYYY-MM-DDTHH:MM:SS(.f+)?Z` with the
/// grammar's digit ranges (month 01-12, day 01-31, hour 00-23, minute 00-59, second 00-60).
pub(crate) fn timestamp_body_ok(body: &str) -> bool {
    let b = body.as_bytes();
    if b.len() < 20 {
        return false;
    }
    let d = |i: usize| b[i].is_ascii_digit();
    let two = |i: usize| (b[i] - b'0') * 10 + (b[i + 1] - b'0');
    let fixed = d(0) && d(1) && d(2) && d(3) && b[4] == b'-' && d(5) && d(6) && b[7] == b'-';
    let fixed = fixed && d(8) && d(9) && b[10] == b'T' && d(11) && d(12) && b[13] == b':';
    let fixed = fixed && d(14) && d(15) && b[16] == b':' && d(17) && d(18);
    if !fixed {
        return false;
    }
    let (month, day, hour, minute, second) = (two(5), two(8), two(11), two(14), two(17));
    let ranges = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour <= 23
        && minute <= 59
        && second <= 60;
    let tail = &b[19..];
    let tail_ok = match tail {
        [b'Z'] => true,
        [b'.', frac @ .., b'Z'] => !frac.is_empty() && frac.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    ranges && tail_ok
}

/// `'` ( ~['\\] | `\'` | `\\` )* `'`
fn string_len(s: &str) -> Option<usize> {
    let rest = s.strip_prefix('\'')?;
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' => return Some(i + 2),
            b'\\' => match b.get(i + 1) {
                Some(b'\'') | Some(b'\\') => i += 2,
                _ => return None,
            },
            _ => i += 1,
        }
    }
    None
}

fn bool_len(s: &str) -> Option<usize> {
    if s.starts_with("true") {
        Some(4)
    } else if s.starts_with("false") {
        Some(5)
    } else {
        None
    }
}

/// Lengths of the longest identifier without and with hyphens, if one starts here.
fn ident_len(s: &str) -> Option<(usize, usize)> {
    let b = s.as_bytes();
    if !b
        .first()
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
    {
        return None;
    }
    let word = |c: &&u8| c.is_ascii_alphanumeric() || **c == b'_';
    let without = b.iter().take_while(word).count();
    let with = b.iter().take_while(|c| word(c) || **c == b'-').count();
    Some((without, with))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<TokenKind> {
        tokenize(s, true).into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn longest_match_and_rule_order_decide_like_antlr() {
        use TokenKind::*;
        assert_eq!(kinds("true"), vec![Bool, Eof]);
        assert_eq!(kinds("trueish"), vec![IdentWithoutHyphen, Eof]);
        assert_eq!(kinds("AND"), vec![And, Eof]);
        assert_eq!(kinds("network-traffic"), vec![IdentWithHyphen, Eof]);
        assert_eq!(kinds("01"), vec![IntPos, IntPos, Eof]);
        assert_eq!(kinds("-5 +.5 -.5"), vec![IntNeg, FloatPos, FloatNeg, Eof]);
        assert_eq!(kinds("b'===='"), vec![IdentWithoutHyphen, String, Eof]);
        assert_eq!(
            kinds("t'2016-13-01T00:00:00Z'"),
            vec![IdentWithoutHyphen, String, Eof]
        );
        assert_eq!(kinds("t'2016-12-01T00:00:60.5Z'"), vec![Timestamp, Eof]);
        assert_eq!(kinds("'it\\'s' /* c */ // x"), vec![String, Eof]);
        assert_eq!(kinds("<> <= ="), vec![Neq, Le, Eq, Eof]);
    }

    #[test]
    fn positions_are_line_and_character_column() {
        let t = tokenize("[a:b =\n  ']'", true);
        let last = t[t.len() - 2];
        assert_eq!((last.line, last.column), (2, 2));
    }
}
