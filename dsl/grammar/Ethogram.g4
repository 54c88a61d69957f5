// Ethogram.g4: the grammar of the Ethogram rule language (docs/language.md).
grammar Ethogram;

// ---------------------------------------------------------------- files

file        : header? importDecl* decl* EOF ;
header      : RULESET dottedName VERSION version=(SEMVER | FLOAT | INT | STRING) SEMI ;
importDecl  : IMPORT STRING SEMI ;
decl        : eventDecl | taxonomyDecl | sessionDecl | ruleDecl | exclusiveDecl | modelDecl | importDecl | header ;

// ---------------------------------------------------------------- schemas

eventDecl   : EVENT name LBRACE fieldDecl* RBRACE ;
fieldDecl   : ANNOTATION* modifier=(KEY | TIME | ID_KW)? name COLON typeRef QUESTION? SEMI ;
typeRef     : ENUM LPAREN name (COMMA name)* RPAREN
            | name
            ;

// ---------------------------------------------------------------- taxonomy

taxonomyDecl : TAXONOMY dottedName? LBRACE taxNode* RBRACE ;
taxNode      : name (SEMI | LBRACE taxNode* RBRACE SEMI?) ;

// ---------------------------------------------------------------- sessions

sessionDecl : SESSION name LBRACE sessionItem* RBRACE ;
sessionItem : GAP duration SEMI                                # sessionGap
            | MAX duration SEMI                                # sessionMax
            | END ON name (WHERE expr)? SEMI                   # sessionEnd
            | EVENTS name (COMMA name)* SEMI                   # sessionEvents
            ;

// ---------------------------------------------------------------- models (docs/language.md section 10)

modelDecl   : MODEL name COLON name LBRACE modelItem* RBRACE ;
modelItem   : PATH STRING SEMI                                 # modelPath
            | HASH STRING SEMI                                 # modelHash
            | OBSERVE fieldRef (COMMA fieldRef)* SEMI          # modelObserve
            | PER SESSION name SEMI                            # modelPerSession
            | MIN_EVIDENCE INT SEMI                            # modelMinEvidence
            | STATES name (COMMA name)* SEMI                   # modelStates
            ;
fieldRef    : name DOT anyName ;

// ---------------------------------------------------------------- rules

ruleDecl    : RULE name LBRACE ruleItem* RBRACE ;
ruleItem    : LABEL dottedName SEMI                            # labelItem
            | SEVERITY name SEMI                               # severityItem
            | CONFIDENCE expr SEMI                             # confidenceItem
            | OVER scope SEMI                                  # overItem
            | ON name (COMMA name)* SEMI                       # onItem
            | AT SESSION END SEMI                              # atEndItem
            | WHEN expr SEMI                                   # whenItem
            | PATTERN step (connector step)* (WITHIN duration)? SEMI  # patternItem
            | WITHIN duration SEMI                             # withinItem
            | KEEP ALL SEMI                                    # keepItem
            | EMIT emitBinding (COMMA emitBinding)* SEMI       # emitItem
            | FALLBACK (WHEN expr | NONE) SEMI                 # fallbackItem
            ;
scope       : SESSION name                                     # sessionScope
            | LAST duration                                    # windowScope
            | LAST MINUS? INT EVENTS                           # lastNScope
            ;
connector   : ARROW | FATARROW ;
step        : name COLON typeAlts quantifier? (WHERE expr)?                  # positiveStep
            | NOT name COLON typeAlts (WHERE expr)? (WITHIN duration)?       # negativeStep
            ;
typeAlts    : name (PIPE name)* ;
quantifier  : PLUS                                             # quantPlus
            | STAR                                             # quantStar
            | QUESTION                                         # quantOpt
            | LBRACE INT RBRACE                                # quantExact
            | LBRACE INT COMMA RBRACE                          # quantAtLeast
            | LBRACE INT COMMA INT RBRACE                      # quantRange
            ;
emitBinding : anyName ASSIGN expr ;

// ---------------------------------------------------------------- exclusive groups

exclusiveDecl : EXCLUSIVE name LBRACE member* RBRACE ;
member        : (LABEL dottedName | name) (PRIORITY MINUS? INT)? SEMI ;

// ---------------------------------------------------------------- expressions

expr        : MINUS expr                                              # negExpr
            | expr op=(STAR | SLASH | PERCENT) expr                   # mulExpr
            | expr op=(PLUS | MINUS) expr                             # addExpr
            | expr op=(EQ | NE | LT | LE | GT | GE) expr              # cmpExpr
            | expr NOT? IN LBRACK (expr (COMMA expr)*)? RBRACK         # inExpr
            | NOT expr                                                # notExpr
            | expr AND expr                                           # andExpr
            | expr OR expr                                            # orExpr
            | primary                                                 # primaryExpr
            ;
primary     : literal                                                 # literalPrimary
            | name LPAREN (callArg (COMMA callArg)*)? RPAREN          # callPrimary
            | name (DOT anyName)?                                     # refPrimary
            | LPAREN expr RPAREN                                      # parenPrimary
            ;
callArg     : expr (WHERE expr)? ;
literal     : INT | FLOAT | STRING | DURATION | TRUE | FALSE ;
duration    : MINUS? (DURATION | INT | FLOAT) ;

// Identifiers: keywords that cannot start an expression's operator role are usable as names.
dottedName  : name (DOT anyName)* ;
name        : ID | softKeyword ;
anyName     : name | NOT | AND | OR | IN | WHERE | WITHIN | TRUE | FALSE ;
softKeyword : RULESET | VERSION | IMPORT | EVENT | KEY | TIME | ID_KW | ENUM | TAXONOMY | SESSION | GAP
            | MAX | END | ON | EVENTS | RULE | LABEL | SEVERITY | CONFIDENCE | OVER | LAST | AT | WHEN
            | PATTERN | KEEP | ALL | EMIT | EXCLUSIVE | PRIORITY | MODEL | PATH | HASH | OBSERVE | PER
            | MIN_EVIDENCE | STATES | FALLBACK | NONE ;

// ---------------------------------------------------------------- lexer

RULESET : 'ruleset' ; VERSION : 'version' ; IMPORT : 'import' ; EVENT : 'event' ; KEY : 'key' ;
TIME : 'time' ; ID_KW : 'id' ; ENUM : 'enum' ; TAXONOMY : 'taxonomy' ; SESSION : 'session' ; GAP : 'gap' ;
MAX : 'max' ; END : 'end' ; ON : 'on' ; EVENTS : 'events' ; RULE : 'rule' ; LABEL : 'label' ;
SEVERITY : 'severity' ; CONFIDENCE : 'confidence' ; OVER : 'over' ; LAST : 'last' ; AT : 'at' ;
WHEN : 'when' ; PATTERN : 'pattern' ; WITHIN : 'within' ; WHERE : 'where' ; KEEP : 'keep' ; ALL : 'all' ;
EMIT : 'emit' ; EXCLUSIVE : 'exclusive' ; PRIORITY : 'priority' ; MODEL : 'model' ; PATH : 'path' ;
HASH : 'hash' ; OBSERVE : 'observe' ; PER : 'per' ; MIN_EVIDENCE : 'min_evidence' ; STATES : 'states' ;
FALLBACK : 'fallback' ; NONE : 'none' ; NOT : 'not' ; AND : 'and' ; OR : 'or' ;
IN : 'in' ; TRUE : 'true' ; FALSE : 'false' ;

ARROW : '->' ; FATARROW : '=>' ; EQ : '==' ; NE : '!=' ; LE : '<=' ; GE : '>=' ; LT : '<' ; GT : '>' ;
ASSIGN : '=' ; PLUS : '+' ; MINUS : '-' ; STAR : '*' ; SLASH : '/' ; PERCENT : '%' ; QUESTION : '?' ;
PIPE : '|' ; COLON : ':' ; SEMI : ';' ; COMMA : ',' ; DOT : '.' ; LPAREN : '(' ; RPAREN : ')' ;
LBRACE : '{' ; RBRACE : '}' ; LBRACK : '[' ; RBRACK : ']' ;

SEMVER   : DIGITS '.' DIGITS '.' DIGITS ;
DURATION : DIGITS ('ms' | 's' | 'm' | 'h' | 'd') ;
FLOAT    : DIGITS '.' DIGITS ;
INT      : DIGITS ;
STRING   : '"' (~["\\\r\n] | '\\' .)* '"' ;
ANNOTATION : '@' [A-Za-z_] [A-Za-z0-9_]* ;
ID       : [A-Za-z_] [A-Za-z0-9_]* ;

LINE_COMMENT  : '//' ~[\r\n]* -> channel(HIDDEN) ;
BLOCK_COMMENT : '/*' .*? '*/' -> channel(HIDDEN) ;
WS            : [ \t\r\n]+ -> skip ;

// Lexical errors become tokens so that the parser front end can report them with a friendly message.
UNTERMINATED_STRING  : '"' (~["\\\r\n] | '\\' .)* ;
UNTERMINATED_COMMENT : '/*' (~[*] | '*'+ ~[*/])* '*'* EOF ;
BAD_CHAR             : . ;

fragment DIGITS : [0-9]+ ;
