//! Parser: STIX 2.1 (and 2.0) pattern text to the syntax tree, by recursive descent over
//! the grammar in `STIXPattern.g4` with its precedence (FOLLOWEDBY < OR < AND; qualifiers
//! bind to the observation expression before them). It owns syntax and the rule that one
//! qualifier kind may not repeat on one `[…]` observation; it never looks at data.

use base64::Engine as _;

use crate::ast::{
    Comparison, ComparisonExpr, Literal, ObjectPath, ObservationExpr, PathStep, PropertyTest,
    Qualifier,
};
use crate::lexer::{tokenize, Token, TokenKind};
use crate::timestamp::Timestamp;
use crate::{ParseError, StixVersion};

/// How deeply parentheses and brackets may nest before the parser refuses the pattern.
pub const MAX_NESTING: usize = 256;

/// Parses a pattern of the given STIX version. With `one_qualifier_kind`, a `[…]`
/// observation may carry each qualifier kind only once (the 2.1 rule the OASIS validator
/// enforces; the reference matcher does not).
pub fn parse(
    input: &str,
    version: StixVersion,
    one_qualifier_kind: bool,
) -> Result<ObservationExpr> {
    let tokens = tokenize(input, version == StixVersion::V21);
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
        version,
        one_qualifier_kind: one_qualifier_kind && version == StixVersion::V21,
    };
    let expr = parser.observation_expressions()?;
    parser.expect(TokenKind::Eof, "<EOF>")?;
    Ok(expr)
}

/// Parses an object path on its own, such as `file:hashes.'SHA-256'`.
pub fn parse_object_path(input: &str) -> Result<ObjectPath> {
    let mut parser = Parser {
        tokens: tokenize(input, true),
        pos: 0,
        depth: 0,
        version: StixVersion::V21,
        one_qualifier_kind: false,
    };
    let path = parser.object_path()?;
    parser.expect(TokenKind::Eof, "<EOF>")?;
    Ok(path)
}

struct Parser<'a> {
    tokens: Vec<Token<'a>>,
    pos: usize,
    depth: usize,
    version: StixVersion,
    one_qualifier_kind: bool,
}

type Result<T> = std::result::Result<T, ParseError>;

impl<'a> Parser<'a> {
    fn peek(&self) -> Token<'a> {
        self.tokens[self.pos]
    }

    fn next(&mut self) -> Token<'a> {
        let t = self.tokens[self.pos];
        if t.kind != TokenKind::Eof {
            self.pos += 1;
        }
        t
    }

    fn eat(&mut self, kind: TokenKind) -> bool {
        if self.peek().kind == kind {
            self.next();
            true
        } else {
            false
        }
    }

    fn error_at(token: Token<'_>, message: String) -> ParseError {
        ParseError {
            line: token.line,
            column: token.column,
            message,
        }
    }

    fn mismatch(&self, expected: &str) -> ParseError {
        let t = self.peek();
        let found = if t.kind == TokenKind::Eof {
            "<EOF>".to_string()
        } else {
            format!("'{}'", t.text)
        };
        Self::error_at(t, format!("mismatched input {found} expecting {expected}"))
    }

    fn expect(&mut self, kind: TokenKind, expected: &str) -> Result<Token<'a>> {
        if self.peek().kind == kind {
            Ok(self.next())
        } else {
            Err(self.mismatch(expected))
        }
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(Self::error_at(
                self.peek(),
                format!("parentheses and brackets nest deeper than {MAX_NESTING} levels"),
            ));
        }
        Ok(())
    }

    /// `a FOLLOWEDBY b FOLLOWEDBY c`
    fn observation_expressions(&mut self) -> Result<ObservationExpr> {
        let mut items = vec![self.observation_or()?];
        while self.eat(TokenKind::FollowedBy) {
            items.push(self.observation_or()?);
        }
        Ok(flatten(items, ObservationExpr::FollowedBy))
    }

    fn observation_or(&mut self) -> Result<ObservationExpr> {
        let mut items = vec![self.observation_and()?];
        while self.eat(TokenKind::Or) {
            items.push(self.observation_and()?);
        }
        Ok(flatten(items, ObservationExpr::Or))
    }

    fn observation_and(&mut self) -> Result<ObservationExpr> {
        let mut items = vec![self.observation()?];
        while self.eat(TokenKind::And) {
            items.push(self.observation()?);
        }
        Ok(flatten(items, ObservationExpr::And))
    }

    /// `[ … ]` or `( … )`, then any qualifiers.
    fn observation(&mut self) -> Result<ObservationExpr> {
        let start = self.pos;
        let simple = match self.peek().kind {
            TokenKind::LBrack => {
                self.next();
                self.enter()?;
                let c = self.comparison_or()?;
                self.expect(TokenKind::RBrack, "']'")?;
                self.depth -= 1;
                ObservationExpr::Observation(c)
            }
            TokenKind::LParen => {
                self.next();
                self.enter()?;
                let e = self.observation_expressions()?;
                self.expect(TokenKind::RParen, "')'")?;
                self.depth -= 1;
                e
            }
            _ => return Err(self.mismatch("{'[', '('}")),
        };
        let is_simple = self.tokens[start].kind == TokenKind::LBrack;
        let mut expr = simple;
        let mut seen: Vec<std::mem::Discriminant<Qualifier>> = Vec::new();
        loop {
            let at = self.peek();
            let qualifier = match at.kind {
                TokenKind::Within => self.within()?,
                TokenKind::Repeats => self.repeats()?,
                TokenKind::Start => self.start_stop()?,
                _ => break,
            };
            let kind = std::mem::discriminant(&qualifier);
            if self.one_qualifier_kind && is_simple && seen.contains(&kind) {
                return Err(Self::error_at(
                    at,
                    format!(
                        "Duplicate qualifier type encountered: {}",
                        qualifier_name(&qualifier)
                    ),
                ));
            }
            seen.push(kind);
            expr = ObservationExpr::Qualified(Box::new(expr), qualifier);
        }
        Ok(expr)
    }

    fn within(&mut self) -> Result<Qualifier> {
        self.next();
        let t = self.peek();
        let seconds = match t.kind {
            TokenKind::IntPos | TokenKind::FloatPos => {
                self.next();
                t.text
                    .parse::<f64>()
                    .map_err(|_| Self::error_at(t, format!("invalid number '{}'", t.text)))?
            }
            _ => return Err(self.mismatch("{IntPosLiteral, FloatPosLiteral}")),
        };
        self.expect(TokenKind::Seconds, "'SECONDS'")?;
        Ok(Qualifier::Within(seconds))
    }

    fn repeats(&mut self) -> Result<Qualifier> {
        self.next();
        let t = self.expect(TokenKind::IntPos, "IntPosLiteral")?;
        let n =
            t.text.trim_start_matches('+').parse::<u64>().map_err(|_| {
                Self::error_at(t, format!("repeat count '{}' is too large", t.text))
            })?;
        self.expect(TokenKind::Times, "'TIMES'")?;
        Ok(Qualifier::Repeats(n))
    }

    fn start_stop(&mut self) -> Result<Qualifier> {
        self.next();
        let start = self.qualifier_timestamp()?;
        self.expect(TokenKind::Stop, "'STOP'")?;
        let stop = self.qualifier_timestamp()?;
        Ok(Qualifier::StartStop(start, stop))
    }

    /// 2.1 takes a timestamp literal; the 2.0 grammar took a string holding a timestamp,
    /// and later 2.0 tooling also takes the timestamp literal, so 2.0 accepts both.
    fn qualifier_timestamp(&mut self) -> Result<Timestamp> {
        let t = self.peek();
        match t.kind {
            TokenKind::Timestamp => {
                self.next();
                Ok(timestamp_literal(t)?)
            }
            TokenKind::String if self.version == StixVersion::V20 => {
                self.next();
                let s = unquote(t.text);
                Timestamp::parse(&s).ok_or_else(|| {
                    Self::error_at(
                        t,
                        format!("'{s}' is not a timestamp (YYYY-MM-DDTHH:MM:SS[.s]Z)"),
                    )
                })
            }
            _ if self.version == StixVersion::V20 => {
                Err(self.mismatch("{TimestampLiteral, StringLiteral}"))
            }
            _ => Err(self.mismatch("TimestampLiteral")),
        }
    }

    fn comparison_or(&mut self) -> Result<ComparisonExpr> {
        let mut items = vec![self.comparison_and()?];
        while self.eat(TokenKind::Or) {
            items.push(self.comparison_and()?);
        }
        Ok(flatten(items, ComparisonExpr::Or))
    }

    fn comparison_and(&mut self) -> Result<ComparisonExpr> {
        let mut items = vec![self.property_test()?];
        while self.eat(TokenKind::And) {
            items.push(self.property_test()?);
        }
        Ok(flatten(items, ComparisonExpr::And))
    }

    fn property_test(&mut self) -> Result<ComparisonExpr> {
        let t = self.peek();
        match t.kind {
            TokenKind::LParen => {
                self.next();
                self.enter()?;
                let c = self.comparison_or()?;
                self.expect(TokenKind::RParen, "')'")?;
                self.depth -= 1;
                return Ok(c);
            }
            TokenKind::Exists => {
                self.next();
                let path = self.object_path()?;
                return Ok(exists(path, false));
            }
            TokenKind::Not if self.tokens[self.pos + 1].kind == TokenKind::Exists => {
                self.next();
                self.next();
                let path = self.object_path()?;
                return Ok(exists(path, true));
            }
            TokenKind::IdentWithHyphen | TokenKind::IdentWithoutHyphen => {}
            _ => {
                let expected = if self.version == StixVersion::V21 {
                    "{'(', 'NOT', 'EXISTS', IdentifierWithoutHyphen, IdentifierWithHyphen}"
                } else {
                    "{'(', IdentifierWithoutHyphen, IdentifierWithHyphen}"
                };
                return Err(self.mismatch(expected));
            }
        }
        let path = self.object_path()?;
        let negated = self.eat(TokenKind::Not);
        let op_token = self.next();
        let op = match op_token.kind {
            TokenKind::Eq => Comparison::Eq(self.primitive_literal()?),
            TokenKind::Neq => Comparison::Ne(self.primitive_literal()?),
            TokenKind::Lt => Comparison::Lt(self.orderable_literal()?),
            TokenKind::Le => Comparison::Le(self.orderable_literal()?),
            TokenKind::Gt => Comparison::Gt(self.orderable_literal()?),
            TokenKind::Ge => Comparison::Ge(self.orderable_literal()?),
            TokenKind::In => Comparison::In(self.set_literal()?),
            TokenKind::Like => Comparison::Like(self.string_literal()?),
            TokenKind::Matches => Comparison::Matches(self.string_literal()?),
            TokenKind::IsSubset => Comparison::IsSubset(self.string_literal()?),
            TokenKind::IsSuperset => Comparison::IsSuperset(self.string_literal()?),
            _ => {
                self.pos -= usize::from(op_token.kind != TokenKind::Eof);
                return Err(self.mismatch(
                    "a comparison operator {'=', '!=', '<', '<=', '>', '>=', 'IN', 'LIKE', \
                     'MATCHES', 'ISSUBSET', 'ISSUPERSET'}",
                ));
            }
        };
        Ok(ComparisonExpr::Test(PropertyTest { path, negated, op }))
    }

    fn object_path(&mut self) -> Result<ObjectPath> {
        let t = self.peek();
        let object_type = match t.kind {
            TokenKind::IdentWithHyphen | TokenKind::IdentWithoutHyphen => {
                self.next();
                t.text.to_string()
            }
            _ => return Err(self.mismatch("an object type")),
        };
        self.expect(TokenKind::Colon, "':'")?;
        let mut steps = vec![PathStep::Key(self.path_key()?)];
        loop {
            match self.peek().kind {
                TokenKind::Dot => {
                    self.next();
                    steps.push(PathStep::Key(self.path_key()?));
                }
                TokenKind::LBrack => {
                    self.next();
                    let t = self.next();
                    let step = match t.kind {
                        TokenKind::Asterisk => PathStep::Any,
                        TokenKind::IntPos | TokenKind::IntNeg => {
                            PathStep::Index(t.text.trim_start_matches('+').parse().map_err(
                                |_| Self::error_at(t, format!("index '{}' is too large", t.text)),
                            )?)
                        }
                        _ => {
                            self.pos -= 1;
                            return Err(self.mismatch("{IntPosLiteral, IntNegLiteral, '*'}"));
                        }
                    };
                    self.expect(TokenKind::RBrack, "']'")?;
                    steps.push(step);
                }
                _ => break,
            }
        }
        Ok(ObjectPath { object_type, steps })
    }

    fn path_key(&mut self) -> Result<String> {
        let t = self.peek();
        match t.kind {
            TokenKind::IdentWithoutHyphen => {
                self.next();
                Ok(t.text.to_string())
            }
            TokenKind::String => {
                self.next();
                Ok(unquote(t.text))
            }
            _ => Err(self.mismatch("{IdentifierWithoutHyphen, StringLiteral}")),
        }
    }

    fn string_literal(&mut self) -> Result<String> {
        let t = self.peek();
        if t.kind == TokenKind::String {
            self.next();
            Ok(unquote(t.text))
        } else {
            Err(self.mismatch("StringLiteral"))
        }
    }

    fn set_literal(&mut self) -> Result<Vec<Literal>> {
        self.expect(TokenKind::LParen, "'('")?;
        let mut items = Vec::new();
        if self.eat(TokenKind::RParen) {
            return Ok(items);
        }
        loop {
            items.push(self.primitive_literal()?);
            if self.eat(TokenKind::RParen) {
                return Ok(items);
            }
            self.expect(TokenKind::Comma, "{',', ')'}")?;
        }
    }

    fn primitive_literal(&mut self) -> Result<Literal> {
        let t = self.peek();
        if t.kind == TokenKind::Bool {
            self.next();
            return Ok(Literal::Bool(t.text == "true"));
        }
        self.orderable_literal_or("a literal")
    }

    fn orderable_literal(&mut self) -> Result<Literal> {
        self.orderable_literal_or("an orderable literal (number, string, binary, hex or timestamp)")
    }

    fn orderable_literal_or(&mut self, expected: &str) -> Result<Literal> {
        let t = self.peek();
        let bad = |what: &str| Self::error_at(t, format!("invalid {what} '{}'", t.text));
        let literal = match t.kind {
            TokenKind::IntPos | TokenKind::IntNeg => Literal::Int(
                t.text
                    .trim_start_matches('+')
                    .parse()
                    .map_err(|_| bad("integer"))?,
            ),
            TokenKind::FloatPos | TokenKind::FloatNeg => {
                Literal::Float(t.text.parse().map_err(|_| bad("number"))?)
            }
            TokenKind::String => Literal::Str(unquote(t.text)),
            TokenKind::Binary => Literal::Binary(
                base64::engine::general_purpose::STANDARD
                    .decode(&t.text[2..t.text.len() - 1])
                    .map_err(|_| bad("base64 literal"))?,
            ),
            TokenKind::Hex => Literal::Binary(decode_hex(&t.text[2..t.text.len() - 1])),
            TokenKind::Timestamp => Literal::Timestamp(timestamp_literal(t)?),
            _ => return Err(self.mismatch(expected)),
        };
        self.next();
        Ok(literal)
    }
}

fn exists(path: ObjectPath, negated: bool) -> ComparisonExpr {
    ComparisonExpr::Test(PropertyTest {
        path,
        negated,
        op: Comparison::Exists,
    })
}

fn flatten<T>(mut items: Vec<T>, make: fn(Vec<T>) -> T) -> T {
    if items.len() == 1 {
        items.pop().unwrap_or_else(|| unreachable!())
    } else {
        make(items)
    }
}

fn qualifier_name(q: &Qualifier) -> &'static str {
    match q {
        Qualifier::Within(_) => "WITHIN",
        Qualifier::Repeats(_) => "REPEATS",
        Qualifier::StartStop(..) => "STARTSTOP",
    }
}

fn timestamp_literal(t: Token<'_>) -> Result<Timestamp> {
    Timestamp::parse_literal(&t.text[2..t.text.len() - 1]).ok_or_else(|| ParseError {
        line: t.line,
        column: t.column,
        message: format!("invalid timestamp {}", t.text),
    })
}

/// The value of a string literal token: quotes removed, `\'` and `\\` resolved.
fn unquote(text: &str) -> String {
    let body = &text[1..text.len() - 1];
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn decode_hex(s: &str) -> Vec<u8> {
    s.as_bytes()
        .chunks(2)
        .map(|p| {
            let v = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            v(p[0]) << 4 | v(p[1])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p21(s: &str) -> Result<ObservationExpr> {
        parse(s, StixVersion::V21, true)
    }

    #[test]
    fn precedence_is_followedby_then_or_then_and() {
        let e = p21("[a:b=1] AND [a:b=2] OR [a:b=3] FOLLOWEDBY [a:b=4]").unwrap();
        let ObservationExpr::FollowedBy(parts) = e else {
            panic!("{e:?}")
        };
        assert!(
            matches!(&parts[0], ObservationExpr::Or(v) if matches!(v[0], ObservationExpr::And(_)))
        );
    }

    #[test]
    fn errors_give_position_and_expectation() {
        let e = p21("[file:size = ]").unwrap_err();
        assert_eq!((e.line, e.column), (1, 13));
        assert!(e.message.contains("mismatched input ']'"), "{e}");
        let e = p21("[a:b = 1] WITHIN 5 HOURS").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 1:19: mismatched input 'HOURS' expecting 'SECONDS'"
        );
    }

    #[test]
    fn literals_decode() {
        let e =
            p21("[a:b IN (1, -2.5, 'it\\'s', h'ff00', b'AQID', t'2016-01-01T00:00:00Z', true)]")
                .unwrap();
        let ObservationExpr::Observation(ComparisonExpr::Test(t)) = e else {
            panic!()
        };
        let Comparison::In(v) = t.op else { panic!() };
        assert_eq!(v[2], Literal::Str("it's".into()));
        assert_eq!(v[3], Literal::Binary(vec![0xff, 0]));
        assert_eq!(v[4], Literal::Binary(vec![1, 2, 3]));
    }

    #[test]
    fn duplicate_qualifiers_on_one_observation_are_rejected_in_21_only() {
        let p = "[a:b = 1] WITHIN 1 SECONDS WITHIN 2 SECONDS";
        assert!(p21(p)
            .unwrap_err()
            .message
            .contains("Duplicate qualifier type"));
        assert!(parse(p, StixVersion::V20, true).is_ok());
        assert!(parse(p, StixVersion::V21, false).is_ok());
        assert!(p21("([a:b = 1]) WITHIN 1 SECONDS WITHIN 2 SECONDS").is_ok());
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!("{}[a:b=1]{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(p21(&deep).unwrap_err().message.contains("nest deeper"));
        let deep = format!("[{}a:b=1{}]", "(".repeat(10_000), ")".repeat(10_000));
        assert!(p21(&deep).is_err());
    }

    #[test]
    fn long_chains_stay_flat() {
        let chain = vec!["[a:b=1]"; 100_000].join(" AND ");
        let ObservationExpr::And(v) = p21(&chain).unwrap() else {
            panic!()
        };
        assert_eq!(v.len(), 100_000);
    }
}
