//! The 18 STIX Cyber-observable Objects: property tables, predefined extensions and rules.

use serde_json::Value;

use crate::constraints::{at_least_one, exclusive, requires, time_order};
use crate::props::{opt, req, Ext, JsonObject, Kind::*, Prop};
use crate::refs::Targets;
use crate::report::{Ctx, Path};
use crate::types::{TypeSpec, CYBER_OBSERVABLE};
use crate::vocab;

/// A count that the spec (or its schema) says must not be negative.
const NON_NEGATIVE: crate::props::Kind = Integer(0, i64::MAX);
/// An integer without a range in the spec.
const INTEGER: crate::props::Kind = Integer(i64::MIN, i64::MAX);
const ARTIFACT_REF: Targets = Targets::Only(&["artifact"]);
const EMAIL_ADDR: Targets = Targets::Only(&["email-addr"]);
const FILE_OR_DIRECTORY: Targets = Targets::Only(&["file", "directory"]);
const USER_ACCOUNT: Targets = Targets::Only(&["user-account"]);
const ADDRESS: Targets = Targets::Only(&["ipv4-addr", "ipv6-addr", "mac-addr", "domain-name"]);

const ARTIFACT: &[Prop] = &[
    opt("mime_type", String),
    opt("payload_bin", Binary),
    opt("url", Url),
    opt("hashes", Hashes),
    opt("encryption_algorithm", Enum(vocab::ENCRYPTION_ALGORITHM)),
    opt("decryption_key", String),
];
const AUTONOMOUS_SYSTEM: &[Prop] = &[
    req("number", INTEGER),
    opt("name", String),
    opt("rir", String),
];
const DIRECTORY: &[Prop] = &[
    req("path", String),
    opt("path_enc", String),
    opt("ctime", Timestamp),
    opt("mtime", Timestamp),
    opt("atime", Timestamp),
    opt("contains_refs", Refs(FILE_OR_DIRECTORY)),
];
const DOMAIN_NAME: &[Prop] = &[
    req("value", String),
    opt(
        "resolves_to_refs",
        Refs(Targets::Only(&["ipv4-addr", "ipv6-addr", "domain-name"])),
    ),
];
const EMAIL_ADDRESS: &[Prop] = &[
    req("value", String),
    opt("display_name", String),
    opt("belongs_to_ref", Ref(USER_ACCOUNT)),
];
const MIME_PART: &[Prop] = &[
    opt("body", String),
    opt("body_raw_ref", Ref(Targets::Only(&["artifact", "file"]))),
    opt("content_type", String),
    opt("content_disposition", String),
];
const EMAIL_MESSAGE: &[Prop] = &[
    req("is_multipart", Boolean),
    opt("date", Timestamp),
    opt("content_type", String),
    opt("from_ref", Ref(EMAIL_ADDR)),
    opt("sender_ref", Ref(EMAIL_ADDR)),
    opt("to_refs", Refs(EMAIL_ADDR)),
    opt("cc_refs", Refs(EMAIL_ADDR)),
    opt("bcc_refs", Refs(EMAIL_ADDR)),
    opt("message_id", String),
    opt("subject", String),
    opt("received_lines", Strings),
    opt("additional_header_fields", Headers { single: true }),
    opt("body", String),
    opt("body_multipart", NestedList(MIME_PART)),
    opt("raw_email_ref", Ref(ARTIFACT_REF)),
];
const ALTERNATE_DATA_STREAM: &[Prop] = &[
    req("name", String),
    opt("hashes", Hashes),
    opt("size", NON_NEGATIVE),
];
const PE_SECTION: &[Prop] = &[
    req("name", String),
    opt("size", NON_NEGATIVE),
    opt("entropy", Number(f64::MIN, f64::MAX)),
    opt("hashes", Hashes),
];
const FILE_EXTENSIONS: &[Ext] = &[
    Ext {
        name: "ntfs-ext",
        needs_optional: true,
        props: &[
            opt("sid", String),
            opt("alternate_data_streams", NestedList(ALTERNATE_DATA_STREAM)),
        ],
    },
    Ext {
        name: "raster-image-ext",
        needs_optional: true,
        props: &[
            opt("image_height", NON_NEGATIVE),
            opt("image_width", NON_NEGATIVE),
            opt("bits_per_pixel", NON_NEGATIVE),
            opt("exif_tags", Dictionary),
        ],
    },
    Ext {
        name: "pdf-ext",
        needs_optional: true,
        props: &[
            opt("version", String),
            opt("is_optimized", Boolean),
            opt("document_info_dict", Dictionary),
            opt("pdfid0", String),
            opt("pdfid1", String),
        ],
    },
    Ext {
        name: "archive-ext",
        needs_optional: false,
        props: &[
            req("contains_refs", Refs(FILE_OR_DIRECTORY)),
            opt("comment", String),
        ],
    },
    Ext {
        name: "windows-pebinary-ext",
        needs_optional: true,
        props: &[
            req("pe_type", Vocab(vocab::WINDOWS_PEBINARY_TYPE)),
            opt("imphash", String),
            opt("machine_hex", Hex),
            opt("number_of_sections", NON_NEGATIVE),
            opt("time_date_stamp", Timestamp),
            opt("pointer_to_symbol_table_hex", Hex),
            opt("number_of_symbols", NON_NEGATIVE),
            opt("size_of_optional_header", NON_NEGATIVE),
            opt("characteristics_hex", Hex),
            opt("file_header_hashes", Hashes),
            opt("optional_header", Object),
            opt("sections", NestedList(PE_SECTION)),
        ],
    },
];
const FILE: &[Prop] = &[
    opt("extensions", Extensions(FILE_EXTENSIONS)),
    opt("hashes", Hashes),
    opt("size", NON_NEGATIVE),
    opt("name", String),
    opt("name_enc", String),
    opt("magic_number_hex", Hex),
    opt("mime_type", String),
    opt("ctime", Timestamp),
    opt("mtime", Timestamp),
    opt("atime", Timestamp),
    opt("parent_directory_ref", Ref(Targets::Only(&["directory"]))),
    opt("contains_refs", Refs(Targets::Sco)),
    opt("content_ref", Ref(ARTIFACT_REF)),
];
const IPV4_ADDR: &[Prop] = &[
    req("value", String),
    opt("resolves_to_refs", Refs(Targets::Only(&["mac-addr"]))),
    opt(
        "belongs_to_refs",
        Refs(Targets::Only(&["autonomous-system"])),
    ),
];
const MAC_ADDR: &[Prop] = &[req("value", String)];
const MUTEX: &[Prop] = &[req("name", String)];
const NETWORK_TRAFFIC_EXTENSIONS: &[Ext] = &[
    Ext {
        name: "http-request-ext",
        needs_optional: false,
        props: &[
            req("request_method", String),
            req("request_value", String),
            opt("request_version", String),
            opt("request_header", Headers { single: false }),
            opt("message_body_length", INTEGER),
            opt("message_body_data_ref", Ref(ARTIFACT_REF)),
        ],
    },
    Ext {
        name: "icmp-ext",
        needs_optional: false,
        props: &[req("icmp_type_hex", Hex), req("icmp_code_hex", Hex)],
    },
    Ext {
        name: "socket-ext",
        needs_optional: false,
        props: &[
            req("address_family", Enum(vocab::SOCKET_ADDRESS_FAMILY)),
            opt("is_blocking", Boolean),
            opt("is_listening", Boolean),
            opt("options", Dictionary),
            opt("socket_type", Enum(vocab::SOCKET_TYPE)),
            opt("socket_descriptor", NON_NEGATIVE),
            opt("socket_handle", INTEGER),
        ],
    },
    Ext {
        name: "tcp-ext",
        needs_optional: true,
        props: &[opt("src_flags_hex", Hex), opt("dst_flags_hex", Hex)],
    },
];
const NETWORK_TRAFFIC: &[Prop] = &[
    opt("extensions", Extensions(NETWORK_TRAFFIC_EXTENSIONS)),
    opt("start", Timestamp),
    opt("end", Timestamp),
    opt("is_active", Boolean),
    opt("src_ref", Ref(ADDRESS)),
    opt("dst_ref", Ref(ADDRESS)),
    opt("src_port", Integer(0, 65535)),
    opt("dst_port", Integer(0, 65535)),
    req("protocols", Strings),
    opt("src_byte_count", INTEGER),
    opt("dst_byte_count", INTEGER),
    opt("src_packets", INTEGER),
    opt("dst_packets", INTEGER),
    opt("ipfix", Dictionary),
    opt("src_payload_ref", Ref(ARTIFACT_REF)),
    opt("dst_payload_ref", Ref(ARTIFACT_REF)),
    opt(
        "encapsulates_refs",
        Refs(Targets::Only(&["network-traffic"])),
    ),
    opt(
        "encapsulated_by_ref",
        Ref(Targets::Only(&["network-traffic"])),
    ),
];
const PROCESS_EXTENSIONS: &[Ext] = &[
    Ext {
        name: "windows-process-ext",
        needs_optional: true,
        props: &[
            opt("aslr_enabled", Boolean),
            opt("dep_enabled", Boolean),
            opt("priority", String),
            opt("owner_sid", String),
            opt("window_title", String),
            opt("startup_info", Dictionary),
            opt("integrity_level", Enum(vocab::WINDOWS_INTEGRITY_LEVEL)),
        ],
    },
    Ext {
        name: "windows-service-ext",
        needs_optional: true,
        props: &[
            opt("service_name", String),
            opt("descriptions", Strings),
            opt("display_name", String),
            opt("group_name", String),
            opt("start_type", Enum(vocab::WINDOWS_SERVICE_START_TYPE)),
            opt("service_dll_refs", Refs(Targets::Only(&["file"]))),
            opt("service_type", Enum(vocab::WINDOWS_SERVICE_TYPE)),
            opt("service_status", Enum(vocab::WINDOWS_SERVICE_STATUS)),
        ],
    },
];
const PROCESS: &[Prop] = &[
    opt("extensions", Extensions(PROCESS_EXTENSIONS)),
    opt("is_hidden", Boolean),
    opt("pid", INTEGER),
    opt("created_time", Timestamp),
    opt("cwd", String),
    opt("command_line", String),
    opt("environment_variables", Dictionary),
    opt(
        "opened_connection_refs",
        Refs(Targets::Only(&["network-traffic"])),
    ),
    opt("creator_user_ref", Ref(USER_ACCOUNT)),
    opt("image_ref", Ref(Targets::Only(&["file"]))),
    opt("parent_ref", Ref(Targets::Only(&["process"]))),
    opt("child_refs", Refs(Targets::Only(&["process"]))),
];
const SOFTWARE: &[Prop] = &[
    req("name", String),
    opt("cpe", String),
    opt("swid", String),
    opt("languages", Strings),
    opt("vendor", String),
    opt("version", String),
];
const URL: &[Prop] = &[req("value", Url)];
const USER_ACCOUNT_EXTENSIONS: &[Ext] = &[Ext {
    name: "unix-account-ext",
    needs_optional: true,
    props: &[
        opt("gid", INTEGER),
        opt("groups", Strings),
        opt("home_dir", String),
        opt("shell", String),
    ],
}];
const USER_ACCOUNT_PROPS: &[Prop] = &[
    opt("extensions", Extensions(USER_ACCOUNT_EXTENSIONS)),
    opt("user_id", String),
    opt("credential", String),
    opt("account_login", String),
    opt("account_type", Vocab(vocab::ACCOUNT_TYPE)),
    opt("display_name", String),
    opt("is_service_account", Boolean),
    opt("is_privileged", Boolean),
    opt("can_escalate_privs", Boolean),
    opt("is_disabled", Boolean),
    opt("account_created", Timestamp),
    opt("account_expires", Timestamp),
    opt("credential_last_changed", Timestamp),
    opt("account_first_login", Timestamp),
    opt("account_last_login", Timestamp),
];
const REGISTRY_VALUE: &[Prop] = &[
    opt("name", String),
    opt("data", String),
    opt("data_type", Enum(vocab::WINDOWS_REGISTRY_DATATYPE)),
];
const WINDOWS_REGISTRY_KEY: &[Prop] = &[
    opt("key", String),
    opt("values", NestedList(REGISTRY_VALUE)),
    opt("modified_time", Timestamp),
    opt("creator_user_ref", Ref(USER_ACCOUNT)),
    opt("number_of_subkeys", INTEGER),
];
const X509_V3_EXTENSIONS: &[Prop] = &[
    opt("basic_constraints", String),
    opt("name_constraints", String),
    opt("policy_constraints", String),
    opt("key_usage", String),
    opt("extended_key_usage", String),
    opt("subject_key_identifier", String),
    opt("authority_key_identifier", String),
    opt("subject_alternative_name", String),
    opt("issuer_alternative_name", String),
    opt("subject_directory_attributes", String),
    opt("crl_distribution_points", String),
    opt("inhibit_any_policy", String),
    opt("private_key_usage_period_not_before", Timestamp),
    opt("private_key_usage_period_not_after", Timestamp),
    opt("certificate_policies", String),
    opt("policy_mappings", String),
];
const X509_CERTIFICATE: &[Prop] = &[
    opt("is_self_signed", Boolean),
    opt("hashes", Hashes),
    opt("version", String),
    opt("serial_number", String),
    opt("signature_algorithm", String),
    opt("issuer", String),
    opt("validity_not_before", Timestamp),
    opt("validity_not_after", Timestamp),
    opt("subject", String),
    opt("subject_public_key_algorithm", String),
    opt("subject_public_key_modulus", String),
    opt("subject_public_key_exponent", INTEGER),
    opt("x509_v3_extensions", Nested(X509_V3_EXTENSIONS)),
];

fn artifact(ctx: &mut Ctx, map: &JsonObject) {
    string_format(
        ctx,
        map,
        "mime_type",
        is_media_type,
        "a media type (type/subtype) of the IANA registry's top-level types",
    );
    at_least_one(ctx, map, &["payload_bin", "url"]);
    exclusive(ctx, map, "url", "payload_bin");
    requires(ctx, map, "url", "hashes");
}

fn email_message(ctx: &mut Ctx, map: &JsonObject) {
    match map.get("is_multipart").and_then(Value::as_bool) {
        Some(true) => exclusive(ctx, map, "is_multipart", "body"),
        Some(false) => exclusive(ctx, map, "is_multipart", "body_multipart"),
        None => {}
    }
    let parts = map
        .get("body_multipart")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (i, part) in parts.iter().enumerate() {
        let Some(part) = part.as_object() else {
            continue;
        };
        if part.contains_key("body") == part.contains_key("body_raw_ref") {
            let path = Path::Root.key("body_multipart");
            ctx.error(
                &path.index(i),
                "at-least-one",
                "a MIME part must have exactly one of body and body_raw_ref",
            );
        }
    }
}

fn file(ctx: &mut Ctx, map: &JsonObject) {
    at_least_one(ctx, map, &["hashes", "name"]);
}

/// Checks that the string property `name` satisfies `ok`, naming the expected form.
fn string_format(ctx: &mut Ctx, map: &JsonObject, name: &str, ok: fn(&str) -> bool, what: &str) {
    if let Some(v) = map.get(name).and_then(Value::as_str) {
        if !ok(v) {
            ctx.error(
                &Path::Root.key(name),
                "value-format",
                format!("'{v}' is not {what}"),
            );
        }
    }
}

fn domain_name(ctx: &mut Ctx, map: &JsonObject) {
    string_format(
        ctx,
        map,
        "value",
        is_domain_name,
        "a domain name (RFC 1034 / RFC 5890)",
    );
}

fn email_addr(ctx: &mut Ctx, map: &JsonObject) {
    string_format(
        ctx,
        map,
        "value",
        is_email_address,
        "a single email address (local-part@domain)",
    );
}

/// Domain-name shape: dot-separated labels of 1 to 63 letters (any script), digits, `-` or `_`,
/// at most 253 characters, an optional final dot.
fn is_domain_name(v: &str) -> bool {
    let name = v.strip_suffix('.').unwrap_or(v);
    let label_ok = |l: &str| {
        (1..=63).contains(&l.chars().count())
            && l.chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    };
    !name.is_empty() && name.chars().count() <= 253 && name.split('.').all(label_ok)
}

/// `local-part@domain`: a non-empty local part without whitespace, and a domain name or an
/// address literal in brackets.
fn is_email_address(v: &str) -> bool {
    let Some((local, domain)) = v.rsplit_once('@') else {
        return false;
    };
    let literal = domain.starts_with('[') && domain.ends_with(']');
    !local.is_empty()
        && !local.chars().any(|c| c.is_whitespace() || c.is_control())
        && (literal || is_domain_name(domain))
}

fn x509_certificate(ctx: &mut Ctx, map: &JsonObject) {
    some_own_property(ctx, map);
    let defined = |ext: &JsonObject| {
        ext.keys()
            .any(|k| X509_V3_EXTENSIONS.iter().any(|p| p.name == k))
    };
    if map
        .get("x509_v3_extensions")
        .and_then(Value::as_object)
        .is_some_and(|ext| !defined(ext))
    {
        let msg = "x509_v3_extensions must contain at least one of its defined properties";
        ctx.error(&Path::Root.key("x509_v3_extensions"), "at-least-one", msg);
    }
}

fn ipv4_addr(ctx: &mut Ctx, map: &JsonObject) {
    string_format(
        ctx,
        map,
        "value",
        |v| cidr::<std::net::Ipv4Addr>(v, 32),
        "an IPv4 address or CIDR block",
    );
}

fn ipv6_addr(ctx: &mut Ctx, map: &JsonObject) {
    string_format(
        ctx,
        map,
        "value",
        |v| cidr::<std::net::Ipv6Addr>(v, 128),
        "an IPv6 address or CIDR block",
    );
}

fn cidr<A: std::str::FromStr>(v: &str, max_prefix: u8) -> bool {
    let (addr, prefix) = match v.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (v, None),
    };
    addr.parse::<A>().is_ok()
        && prefix
            .is_none_or(|p| p.parse::<u8>().is_ok_and(|p| p <= max_prefix) && !p.starts_with('+'))
}

fn mac_addr(ctx: &mut Ctx, map: &JsonObject) {
    string_format(
        ctx,
        map,
        "value",
        is_mac48,
        "a lowercase, colon-delimited MAC-48 address with leading zeros",
    );
}

fn is_mac48(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 17
        && b.iter().enumerate().all(|(i, c)| {
            if i % 3 == 2 {
                *c == b':'
            } else {
                c.is_ascii_digit() || (b'a'..=b'f').contains(c)
            }
        })
}

fn network_traffic(ctx: &mut Ctx, map: &JsonObject) {
    at_least_one(ctx, map, &["src_ref", "dst_ref"]);
    time_order(ctx, map, "start", "end", false);
    if map.get("is_active") == Some(&Value::Bool(true)) {
        exclusive(ctx, map, "is_active", "end");
    }
}

fn software(ctx: &mut Ctx, map: &JsonObject) {
    string_format(
        ctx,
        map,
        "cpe",
        is_cpe23,
        "a CPE 2.3 formatted string (cpe:2.3:part:vendor:...)",
    );
}

/// CPE 2.3 formatted string shape: `cpe:2.3:` then 11 more colon-separated components
/// (a backslash escapes a colon inside a component).
fn is_cpe23(v: &str) -> bool {
    let Some(rest) = v.strip_prefix("cpe:2.3:") else {
        return false;
    };
    let (mut components, mut escaped) = (1, false);
    for c in rest.chars() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, ':') => components += 1,
            _ => {}
        }
    }
    components == 11
        && matches!(
            rest.as_bytes().first(),
            Some(b'a' | b'h' | b'o' | b'*' | b'-')
        )
}

fn windows_registry_key(ctx: &mut Ctx, map: &JsonObject) {
    some_own_property(ctx, map);
    string_format(
        ctx,
        map,
        "key",
        is_full_hive_key,
        "a registry key starting with its full hive name (e.g. HKEY_LOCAL_MACHINE)",
    );
}

/// The hive of a registry key must be written out in full, never abbreviated (HKLM, HKCU...).
fn is_full_hive_key(key: &str) -> bool {
    let hive = key
        .split('\\')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    !matches!(hive.as_str(), "HKLM" | "HKCC" | "HKCR" | "HKCU" | "HKU")
}

/// `type/subtype` with an IANA top-level media type and RFC 6838 name characters.
fn is_media_type(v: &str) -> bool {
    let Some((top, sub)) = v.split_once('/') else {
        return false;
    };
    let top_ok = matches!(
        top,
        "application"
            | "audio"
            | "example"
            | "font"
            | "image"
            | "message"
            | "model"
            | "multipart"
            | "text"
            | "video"
    );
    let sub = sub.split(';').next().unwrap_or_default().trim_end();
    let name_char = |c: char| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c);
    top_ok && !sub.is_empty() && sub.len() <= 127 && sub.chars().all(name_char)
}

/// Process, user-account, windows-registry-key and x509-certificate must carry at least one
/// property of their own (or an extension).
fn some_own_property(ctx: &mut Ctx, map: &JsonObject) {
    let common = [
        "type",
        "id",
        "spec_version",
        "object_marking_refs",
        "granular_markings",
        "defanged",
    ];
    if map.keys().all(|k| common.contains(&k.as_str())) {
        ctx.error(
            &Path::Root,
            "at-least-one",
            "at least one property specific to this object type must be present",
        );
    }
}

/// The SCO type spec for `ty`, if `ty` is one of the 18 SCOs.
pub(crate) fn spec(ty: &str) -> Option<TypeSpec> {
    let (props, check): (&'static [Prop], crate::types::Check) = match ty {
        "artifact" => (ARTIFACT, Some(artifact)),
        "autonomous-system" => (AUTONOMOUS_SYSTEM, None),
        "directory" => (DIRECTORY, None),
        "domain-name" => (DOMAIN_NAME, Some(domain_name)),
        "email-addr" => (EMAIL_ADDRESS, Some(email_addr)),
        "email-message" => (EMAIL_MESSAGE, Some(email_message)),
        "file" => (FILE, Some(file)),
        "ipv4-addr" => (IPV4_ADDR, Some(ipv4_addr)),
        "ipv6-addr" => (IPV4_ADDR, Some(ipv6_addr)),
        "mac-addr" => (MAC_ADDR, Some(mac_addr)),
        "mutex" => (MUTEX, None),
        "network-traffic" => (NETWORK_TRAFFIC, Some(network_traffic)),
        "process" => (PROCESS, Some(some_own_property)),
        "software" => (SOFTWARE, Some(software)),
        "url" => (URL, None),
        "user-account" => (USER_ACCOUNT_PROPS, Some(some_own_property)),
        "windows-registry-key" => (WINDOWS_REGISTRY_KEY, Some(windows_registry_key)),
        "x509-certificate" => (X509_CERTIFICATE, Some(x509_certificate)),
        _ => return None,
    };
    Some(TypeSpec {
        common: CYBER_OBSERVABLE,
        props,
        check,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_formats() {
        assert!(cidr::<std::net::Ipv4Addr>("198.51.100.0/24", 32));
        assert!(!cidr::<std::net::Ipv4Addr>("198.51.100.0/33", 32));
        assert!(!cidr::<std::net::Ipv4Addr>("198.51.100", 32));
        assert!(cidr::<std::net::Ipv6Addr>("2001:0db8::/96", 128));
        assert!(is_mac48("d2:fb:49:24:37:18"));
        assert!(
            !is_mac48("D2:FB:49:24:37:18")
                && !is_mac48("d2-fb-49-24-37-18")
                && !is_mac48("2:fb:49:24:37:18")
        );
    }
}
