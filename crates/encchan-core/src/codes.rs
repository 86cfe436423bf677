//! Enums whose numeric codes and names are part of the ABI and the logs.
//!
//! [`code_enum!`] declares such an enum from one list of `Variant = code =>
//! "name"` rows and derives everything else from that list: the `ALL` array,
//! `name()`, `from_code()` and `from_name()`. A variant cannot exist without
//! its name, and a table built from `ALL` (the C ABI's name tables) cannot
//! miss one.

/// Declares a `#[repr(u8)]` enum from rows of `Variant = code => "name"`.
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum $name {
            $( $(#[$vmeta])* $variant = $code, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$($code),+].len()] = [$($name::$variant),+];

            /// The lower-case name used in logs, rules and the ABI.
            pub const fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }

            /// The numeric code (the ABI value).
            pub const fn code(self) -> u8 {
                self as u8
            }

            /// The value with code `code`, if any.
            pub const fn from_code(code: u8) -> Option<$name> {
                match code {
                    $( $code => Some($name::$variant), )+
                    _ => None,
                }
            }

            /// The value named `name`, if any.
            pub fn from_name(name: &str) -> Option<$name> {
                $name::ALL.into_iter().find(|v| v.name() == name)
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

pub(crate) use code_enum;
