/* lib/util/toml.c: TOML v1.0.0 documents as jansson trees.
 *
 * The valid and invalid cases follow the categories of the toml-test suite (its facts restated in
 * our own words and code).  The expected trees were checked against Python's tomllib, apart from
 * what we do differently on purpose: dates keep their text, integers beyond 64 bits and floats
 * beyond a double are errors.  The expected messages are ours, with line and column. */
#include <math.h>

#include <dsbuild/buf.h>
#include <dsbuild/toml.h>

#include "testutil.h"

struct tcase {
	const char *toml;
	size_t len;
	const char *want; /* the tree as JSON, or the message after "'t.toml' " */
};

#define C(t, w) { t, sizeof(t) - 1, w }

static const struct tcase valid_cases[] = {
	C("a = 1 # c\n",
	  "{\"a\":1}"),
	C("a=1#no space\n",
	  "{\"a\":1}"),
	C("inf=inf#c\n"
	  "nan=nan#c\n"
	  "true=true#c\n"
	  "false=false#c\n",
	  "{\"inf\":{\"$toml\":\"float\",\"value\":\"inf\"},\"nan\":{\"$toml\":\"float\",\"valu"
	  "e\":\"nan\"},\"true\":true,\"false\":false}"),
	C("# é ü 😀\n"
	  "a = 1\n",
	  "{\"a\":1}"),
	C("\ta\t=\t1\t\n",
	  "{\"a\":1}"),
	C("key = 1\n"
	  "bare_key = 2\n"
	  "bare-key = 3\n"
	  "1234 = 4\n"
	  "-_- = 5\n",
	  "{\"key\":1,\"bare_key\":2,\"bare-key\":3,\"1234\":4,\"-_-\":5}"),
	C("\"127.0.0.1\" = 1\n"
	  "\"character encoding\" = 2\n"
	  "\"ʎǝʞ\" = 3\n"
	  "'key2' = 4\n"
	  "'quoted \"value\"' = 5\n",
	  "{\"127.0.0.1\":1,\"character encoding\":2,\"\\u028E\\u01DD\\u029E\":3,\"key2\":4,\"q"
	  "uoted \\\"value\\\"\":5}"),
	C("\"\" = \"blank\"\n",
	  "{\"\":\"blank\"}"),
	C("'' = 1\n",
	  "{\"\":1}"),
	C("name = \"Orange\"\n"
	  "physical.color = \"orange\"\n"
	  "physical.shape = \"round\"\n"
	  "site.\"google.com\" = true\n",
	  "{\"name\":\"Orange\",\"physical\":{\"color\":\"orange\",\"shape\":\"round\"},\"site"
	  "\":{\"google.com\":true}}"),
	C("fruit.name = 1\n"
	  "fruit. color = 2\n"
	  "fruit . flavor = 3\n",
	  "{\"fruit\":{\"name\":1,\"color\":2,\"flavor\":3}}"),
	C("3.14159 = \"pi\"\n",
	  "{\"3\":{\"14159\":\"pi\"}}"),
	C("true = 1\n"
	  "false = 2\n"
	  "inf = 3\n"
	  "nan = 4\n",
	  "{\"true\":1,\"false\":2,\"inf\":3,\"nan\":4}"),
	C("\"\\n\" = 1\n"
	  "\"\\u00c0\" = 2\n"
	  "\"\\\"\" = 3\n",
	  "{\"\\n\":1,\"\\u00C0\":2,\"\\\"\":3}"),
	C("''.x = 1\n"
	  "x.\"\" = 2\n"
	  "[a]\n"
	  "\"\".'' = 3\n",
	  "{\"\":{\"x\":1},\"x\":{\"\":2},\"a\":{\"\":{\"\":3}}}"),
	C("apple.type = \"fruit\"\n"
	  "orange.type = \"fruit\"\n"
	  "apple.skin = \"thin\"\n",
	  "{\"apple\":{\"type\":\"fruit\",\"skin\":\"thin\"},\"orange\":{\"type\":\"fruit\"}}"),
	C("\"=~!@$^&*()_+-`1234567890[]|/?><.,;:'=\" = 1\n",
	  "{\"=~!@$^&*()_+-`1234567890[]|/?><.,;:'=\":1}"),
	C("a = \"\\b\\t\\n\\f\\r\\\"\\\\\"\n",
	  "{\"a\":\"\\b\\t\\n\\f\\r\\\"\\\\\"}"),
	C("a = \"\\u00E9\\U0001F600x\"\n",
	  "{\"a\":\"\\u00E9\\uD83D\\uDE00x\"}"),
	C("a = 'C:\\Users\\nodejs\\templates'\n"
	  "b = 'Tom \"Dubs\" Preston'\n"
	  "c = '<\\i\\c*\\s*>'\n",
	  "{\"a\":\"C:\\\\Users\\\\nodejs\\\\templates\",\"b\":\"Tom \\\"Dubs\\\" Preston\",\"c"
	  "\":\"<\\\\i\\\\c*\\\\s*>\"}"),
	C("a = \"\"\"\n"
	  "Roses\n"
	  "Violets\"\"\"\n",
	  "{\"a\":\"Roses\\nViolets\"}"),
	C("a = \"\"\"\n"
	  "The quick \\\n"
	  "\n"
	  "\n"
	  "  brown \\\n"
	  "  fox.\\\n"
	  "  \"\"\"\n",
	  "{\"a\":\"The quick brown fox.\"}"),
	C("a = \"\"\"\n"
	  "x \\\n"
	  "y\\  \n"
	  "\n"
	  "\n"
	  "   \"\"\"\n",
	  "{\"a\":\"x y\"}"),
	C("one = \"\"\"\"one quote\"\"\"\"\n"
	  "two = \"\"\"\"\"two quotes\"\"\"\"\"\n"
	  "lit_one = ''''one quote''''\n"
	  "lit_two = '''''two quotes'''''\n"
	  "mismatch1 = \"\"\"aaa'''bbb\"\"\"\n"
	  "mismatch2 = '''aaa\"\"\"bbb'''\n"
	  "escaped = \"\"\"lol\\\"\"\"\"\"\"\n",
	  "{\"one\":\"\\\"one quote\\\"\",\"two\":\"\\\"\\\"two quotes\\\"\\\"\",\"lit_one\":\""
	  "'one quote'\",\"lit_two\":\"''two quotes''\",\"mismatch1\":\"aaa'''bbb\",\"mismatch2"
	  "\":\"aaa\\\"\\\"\\\"bbb\",\"escaped\":\"lol\\\"\\\"\\\"\"}"),
	C("str7 = \"\"\"\"This,\" she said, \"is just a pointless statement.\"\"\"\"\n",
	  "{\"str7\":\"\\\"This,\\\" she said, \\\"is just a pointless statement.\\\"\"}"),
	C("a = '''\n"
	  "The first newline is\n"
	  "trimmed in raw strings.\n"
	  "   All other whitespace\n"
	  "   is preserved.\n"
	  "'''\n",
	  "{\"a\":\"The first newline is\\ntrimmed in raw strings.\\n   All other whitespace\\n"
	  "   is preserved.\\n\"}"),
	C("a = \"\"\n"
	  "b = ''\n"
	  "c = \"\"\"\"\"\"\n"
	  "d = ''''''\n",
	  "{\"a\":\"\",\"b\":\"\",\"c\":\"\",\"d\":\"\"}"),
	C("a = \"\"\"\"\"\"\"\n"
	  "b = '''''''\n",
	  "{\"a\":\"\\\"\",\"b\":\"'\"}"),
	C("a = \"We see no # comments here.\"\n"
	  "b = 'x # y'\n",
	  "{\"a\":\"We see no # comments here.\",\"b\":\"x # y\"}"),
	C("a = \"x\ty\"\n"
	  "b = 'x\ty'\n",
	  "{\"a\":\"x\\ty\",\"b\":\"x\\ty\"}"),
	C("end_esc = \"String does not end here\\\" but ends here\\\\\"\n"
	  "lit_end_esc = 'String ends here\\'\n"
	  "multiline_not_unicode = \"\"\"\n"
	  "\\\\u0041\"\"\"\n",
	  "{\"end_esc\":\"String does not end here\\\" but ends here\\\\\",\"lit_end_esc\":\"St"
	  "ring ends here\\\\\",\"multiline_not_unicode\":\"\\\\u0041\"}"),
	C("a = 99\n"
	  "b = +99\n"
	  "c = 42\n"
	  "d = 0\n"
	  "e = -17\n"
	  "f = 1_000\n"
	  "g = 5_349_221\n"
	  "h = 53_49_221\n"
	  "i = 1_2_3_4_5\n",
	  "{\"a\":99,\"b\":99,\"c\":42,\"d\":0,\"e\":-17,\"f\":1000,\"g\":5349221,\"h\":5349221"
	  ",\"i\":12345}"),
	C("a = 0\n"
	  "b = +0\n"
	  "c = -0\n",
	  "{\"a\":0,\"b\":0,\"c\":0}"),
	C("a = 0xDEADBEEF\n"
	  "b = 0xdeadbeef\n"
	  "c = 0xdead_beef\n"
	  "d = 0o01234567\n"
	  "e = 0o755\n"
	  "f = 0b11010110\n"
	  "g = 0x00987\n"
	  "h = 0b0\n"
	  "i = 0x0\n",
	  "{\"a\":3735928559,\"b\":3735928559,\"c\":3735928559,\"d\":342391,\"e\":493,\"f\":214"
	  ",\"g\":2439,\"h\":0,\"i\":0}"),
	C("max = 9223372036854775807\n"
	  "min = -9223372036854775808\n"
	  "hexmax = 0x7FFFFFFFFFFFFFFF\n"
	  "octmax = 0o777777777777777777777\n"
	  "binmax = 0b111111111111111111111111111111111111111111111111111111111111111\n",
	  "{\"max\":9223372036854775807,\"min\":-9223372036854775808,\"hexmax\":922337203685477"
	  "5807,\"octmax\":9223372036854775807,\"binmax\":9223372036854775807}"),
	C("a = +1.0\n"
	  "b = 3.1415\n"
	  "c = -0.01\n"
	  "d = 5e+22\n"
	  "e = 1e06\n"
	  "f = -2E-2\n"
	  "g = 6.626e-34\n"
	  "h = 224_617.445_991_228\n"
	  "i = 0.0\n"
	  "j = -0.0\n"
	  "k = +0.0\n"
	  "l = 0e0\n"
	  "m = 0e00\n"
	  "n = 3e2\n"
	  "o = 1e1_0\n"
	  "p = 1e-400\n"
	  "q = 1.7976931348623157e308\n",
	  "{\"a\":1.0,\"b\":3.1415000000000002,\"c\":-0.01,\"d\":4.9999999999999996e22,\"e\":10"
	  "00000.0,\"f\":-0.02,\"g\":6.6259999999999998e-34,\"h\":224617.44599122801,\"i\":0.0,"
	  "\"j\":-0.0,\"k\":0.0,\"l\":0.0,\"m\":0.0,\"n\":300.0,\"o\":10000000000.0,\"p\":0.0,"
	  "\"q\":1.7976931348623157e308}"),
	C("a = inf\n"
	  "b = +inf\n"
	  "c = -inf\n"
	  "d = nan\n"
	  "e = +nan\n"
	  "f = -nan\n",
	  "{\"a\":{\"$toml\":\"float\",\"value\":\"inf\"},\"b\":{\"$toml\":\"float\",\"value\":"
	  "\"inf\"},\"c\":{\"$toml\":\"float\",\"value\":\"-inf\"},\"d\":{\"$toml\":\"float\","
	  "\"value\":\"nan\"},\"e\":{\"$toml\":\"float\",\"value\":\"nan\"},\"f\":{\"$toml\":\""
	  "float\",\"value\":\"nan\"}}"),
	C("t = true\n"
	  "f = false\n",
	  "{\"t\":true,\"f\":false}"),
	C("odt1 = 1979-05-27T07:32:00Z\n"
	  "odt2 = 1979-05-27T00:32:00-07:00\n"
	  "odt3 = 1979-05-27T00:32:00.999999-07:00\n"
	  "odt4 = 1979-05-27 07:32:00Z\n"
	  "ldt1 = 1979-05-27T07:32:00\n"
	  "ldt2 = 1979-05-27T00:32:00.999999\n"
	  "ld1 = 1979-05-27\n"
	  "lt1 = 07:32:00\n"
	  "lt2 = 00:32:00.999999\n",
	  "{\"odt1\":{\"$toml\":\"datetime\",\"value\":\"1979-05-27T07:32:00Z\"},\"odt2\":{\"$t"
	  "oml\":\"datetime\",\"value\":\"1979-05-27T00:32:00-07:00\"},\"odt3\":{\"$toml\":\"da"
	  "tetime\",\"value\":\"1979-05-27T00:32:00.999999-07:00\"},\"odt4\":{\"$toml\":\"datet"
	  "ime\",\"value\":\"1979-05-27T07:32:00Z\"},\"ldt1\":{\"$toml\":\"datetime-local\",\"v"
	  "alue\":\"1979-05-27T07:32:00\"},\"ldt2\":{\"$toml\":\"datetime-local\",\"value\":\"1"
	  "979-05-27T00:32:00.999999\"},\"ld1\":{\"$toml\":\"date-local\",\"value\":\"1979-05-2"
	  "7\"},\"lt1\":{\"$toml\":\"time-local\",\"value\":\"07:32:00\"},\"lt2\":{\"$toml\":\""
	  "time-local\",\"value\":\"00:32:00.999999\"}}"),
	C("a = 1987-07-05t17:45:00z\n",
	  "{\"a\":{\"$toml\":\"datetime\",\"value\":\"1987-07-05T17:45:00Z\"}}"),
	C("a = 0001-01-01 00:00:00Z\n"
	  "b = 9999-12-31T23:59:59Z\n"
	  "d = 23:59:59.999999\n",
	  "{\"a\":{\"$toml\":\"datetime\",\"value\":\"0001-01-01T00:00:00Z\"},\"b\":{\"$toml\":"
	  "\"datetime\",\"value\":\"9999-12-31T23:59:59Z\"},\"d\":{\"$toml\":\"time-local\",\"v"
	  "alue\":\"23:59:59.999999\"}}"),
	C("a = 2000-02-29\n"
	  "b = 2024-02-29T00:00:00+00:00\n"
	  "c = 1600-02-29\n",
	  "{\"a\":{\"$toml\":\"date-local\",\"value\":\"2000-02-29\"},\"b\":{\"$toml\":\"dateti"
	  "me\",\"value\":\"2024-02-29T00:00:00+00:00\"},\"c\":{\"$toml\":\"date-local\",\"valu"
	  "e\":\"1600-02-29\"}}"),
	C("a = [1979-05-27, 07:32:00, 1979-05-27 07:32:00]\n",
	  "{\"a\":[{\"$toml\":\"date-local\",\"value\":\"1979-05-27\"},{\"$toml\":\"time-local"
	  "\",\"value\":\"07:32:00\"},{\"$toml\":\"datetime-local\",\"value\":\"1979-05-27T07:3"
	  "2:00\"}]}"),
	C("integers = [ 1, 2, 3 ]\n"
	  "colors = [ \"red\", \"yellow\", \"green\" ]\n"
	  "nested_arrays_of_ints = [ [ 1, 2 ], [3, 4, 5] ]\n"
	  "nested_mixed_array = [ [ 1, 2 ], [\"a\", \"b\", \"c\"] ]\n"
	  "string_array = [ \"all\", 'strings', \"\"\"are the same\"\"\", '''type''' ]\n"
	  "numbers = [ 0.1, 0.2, 0.5, 1, 2, 5 ]\n"
	  "contributors = [\n"
	  "  \"Foo Bar <foo@example.com>\",\n"
	  "  { name = \"Baz Qux\", email = \"bazqux@example.com\", url = \"https://example."
	  "com/bazqux\" }\n"
	  "]\n",
	  "{\"integers\":[1,2,3],\"colors\":[\"red\",\"yellow\",\"green\"],\"nested_arrays_of_i"
	  "nts\":[[1,2],[3,4,5]],\"nested_mixed_array\":[[1,2],[\"a\",\"b\",\"c\"]],\"string_ar"
	  "ray\":[\"all\",\"strings\",\"are the same\",\"type\"],\"numbers\":[0.100000000000000"
	  "01,0.20000000000000001,0.5,1,2,5],\"contributors\":[\"Foo Bar <foo@example.com>\",{"
	  "\"name\":\"Baz Qux\",\"email\":\"bazqux@example.com\",\"url\":\"https://example.com/"
	  "bazqux\"}]}"),
	C("a = [\n"
	  "  1, # one\n"
	  "  2,\n"
	  "  # c\n"
	  "  3,\n"
	  "]\n"
	  "b = []\n"
	  "c = [ ]\n"
	  "d = [[]]\n"
	  "e = [\n"
	  "]\n",
	  "{\"a\":[1,2,3],\"b\":[],\"c\":[],\"d\":[[]],\"e\":[]}"),
	C("a=[1,2,3]\n",
	  "{\"a\":[1,2,3]}"),
	C("a = [\"a,b\", 'c]d', \"\"\"e\"f\"\"\"]\n",
	  "{\"a\":[\"a,b\",\"c]d\",\"e\\\"f\"]}"),
	C("name = { first = \"Tom\", last = \"Preston-Werner\" }\n"
	  "point = { x = 1, y = 2 }\n"
	  "animal = { type.name = \"pug\" }\n",
	  "{\"name\":{\"first\":\"Tom\",\"last\":\"Preston-Werner\"},\"point\":{\"x\":1,\"y\":2"
	  "},\"animal\":{\"type\":{\"name\":\"pug\"}}}"),
	C("a = {}\n"
	  "b = {   }\n",
	  "{\"a\":{},\"b\":{}}"),
	C("a = { b = { c = { d = 1 } }, e = [ { f = 2 } ] }\n",
	  "{\"a\":{\"b\":{\"c\":{\"d\":1}},\"e\":[{\"f\":2}]}}"),
	C("a = { b.c = 1, b.d = 2 }\n",
	  "{\"a\":{\"b\":{\"c\":1,\"d\":2}}}"),
	C("a = { b = \"\"\"x\n"
	  "y\"\"\", c = [\n"
	  "1,\n"
	  "2] }\n",
	  "{\"a\":{\"b\":\"x\\ny\",\"c\":[1,2]}}"),
	C("[table-1]\n"
	  "key1 = \"some string\"\n"
	  "key2 = 123\n"
	  "\n"
	  "[table-2]\n"
	  "key1 = \"another string\"\n"
	  "key2 = 456\n",
	  "{\"table-1\":{\"key1\":\"some string\",\"key2\":123},\"table-2\":{\"key1\":\"another"
	  " string\",\"key2\":456}}"),
	C("[dog.\"tater.man\"]\n"
	  "type.name = \"pug\"\n",
	  "{\"dog\":{\"tater.man\":{\"type\":{\"name\":\"pug\"}}}}"),
	C("[a.b.c]\n"
	  "[ d.e.f ]\n"
	  "[ g .  h  . i ]\n"
	  "[ j . \"ʞ\" . 'l' ]\n",
	  "{\"a\":{\"b\":{\"c\":{}}},\"d\":{\"e\":{\"f\":{}}},\"g\":{\"h\":{\"i\":{}}},\"j\":{"
	  "\"\\u029E\":{\"l\":{}}}}"),
	C("[x.y.z.w]\n"
	  "[x]\n",
	  "{\"x\":{\"y\":{\"z\":{\"w\":{}}}}}"),
	C("[fruit.apple]\n"
	  "a = 1\n"
	  "[fruit]\n"
	  "b = 2\n",
	  "{\"fruit\":{\"apple\":{\"a\":1},\"b\":2}}"),
	C("[a]\n"
	  "better = 43\n"
	  "[a.b.c]\n"
	  "answer = 42\n",
	  "{\"a\":{\"better\":43,\"b\":{\"c\":{\"answer\":42}}}}"),
	C("[fruit]\n"
	  "apple.color = \"red\"\n"
	  "apple.taste.sweet = true\n"
	  "[fruit.apple.texture]\n"
	  "smooth = true\n",
	  "{\"fruit\":{\"apple\":{\"color\":\"red\",\"taste\":{\"sweet\":true},\"texture\":{\"s"
	  "mooth\":true}}}}"),
	C("['']\n"
	  "x = 1\n"
	  "[''.a]\n"
	  "x = 2\n"
	  "[a.'']\n"
	  "x = 3\n",
	  "{\"\":{\"x\":1,\"a\":{\"x\":2}},\"a\":{\"\":{\"x\":3}}}"),
	C("[true]\n"
	  "[false]\n"
	  "[inf]\n"
	  "[nan]\n",
	  "{\"true\":{},\"false\":{},\"inf\":{},\"nan\":{}}"),
	C("[a] # c\n"
	  "b = 1\n",
	  "{\"a\":{\"b\":1}}"),
	C("[a.b.c]\n"
	  "z = 1\n"
	  "[a]\n"
	  "b.x = 2\n",
	  "{\"a\":{\"b\":{\"c\":{\"z\":1},\"x\":2}}}"),
	C("[[products]]\n"
	  "name = \"Hammer\"\n"
	  "sku = 738594937\n"
	  "\n"
	  "[[products]]  # empty table within the array\n"
	  "\n"
	  "[[products]]\n"
	  "name = \"Nail\"\n"
	  "sku = 284758393\n"
	  "\n"
	  "color = \"gray\"\n",
	  "{\"products\":[{\"name\":\"Hammer\",\"sku\":738594937},{},{\"name\":\"Nail\",\"sku\""
	  ":284758393,\"color\":\"gray\"}]}"),
	C("[[fruits]]\n"
	  "name = \"apple\"\n"
	  "\n"
	  "[fruits.physical]  # subtable\n"
	  "color = \"red\"\n"
	  "shape = \"round\"\n"
	  "\n"
	  "[[fruits.varieties]]  # nested array of tables\n"
	  "name = \"red delicious\"\n"
	  "\n"
	  "[[fruits.varieties]]\n"
	  "name = \"granny smith\"\n"
	  "\n"
	  "\n"
	  "[[fruits]]\n"
	  "name = \"banana\"\n"
	  "\n"
	  "[[fruits.varieties]]\n"
	  "name = \"plantain\"\n",
	  "{\"fruits\":[{\"name\":\"apple\",\"physical\":{\"color\":\"red\",\"shape\":\"round\""
	  "},\"varieties\":[{\"name\":\"red delicious\"},{\"name\":\"granny smith\"}]},{\"name"
	  "\":\"banana\",\"varieties\":[{\"name\":\"plantain\"}]}]}"),
	C("[[a.b]]\n"
	  "x = 1\n"
	  "[a]\n"
	  "y = 2\n",
	  "{\"a\":{\"b\":[{\"x\":1}],\"y\":2}}"),
	C("[fruit]\n"
	  "apple.color = \"red\"\n"
	  "[[fruit.apple.seeds]]\n"
	  "size = 2\n",
	  "{\"fruit\":{\"apple\":{\"color\":\"red\",\"seeds\":[{\"size\":2}]}}}"),
	C("[[parent-table.arr]]\n"
	  "[[parent-table.arr]]\n"
	  "[parent-table]\n"
	  "not-arr = 1\n",
	  "{\"parent-table\":{\"arr\":[{},{}],\"not-arr\":1}}"),
	C("[[a]]\n"
	  "[a.b]\n"
	  "x=1\n"
	  "[[a]]\n"
	  "[a.b]\n"
	  "x=2\n",
	  "{\"a\":[{\"b\":{\"x\":1}},{\"b\":{\"x\":2}}]}"),
	C("z = 1\n"
	  "a = 2\n"
	  "m.b = 3\n"
	  "m.a = 4\n",
	  "{\"z\":1,\"a\":2,\"m\":{\"b\":3,\"a\":4}}"),
	C("a.b.c = 1\n"
	  "a.d = 2\n"
	  "[e]\n",
	  "{\"a\":{\"b\":{\"c\":1},\"d\":2},\"e\":{}}"),
	C("a = [{b = 1}, {b = 2}]\n",
	  "{\"a\":[{\"b\":1},{\"b\":2}]}"),
	C("a = [[[1]], [[2, [3]]]]\n",
	  "{\"a\":[[[1]],[[2,[3]]]]}"),
	C("a = 1979-05-27T07:32:00.123456789Z\n",
	  "{\"a\":{\"$toml\":\"datetime\",\"value\":\"1979-05-27T07:32:00.123456789Z\"}}"),
	C("x = 1 # à\n",
	  "{\"x\":1}"),
	C("a = 2006-01-30 \n"
	  "b = 1\n",
	  "{\"a\":{\"$toml\":\"date-local\",\"value\":\"2006-01-30\"},\"b\":1}"),
	C("# c",
	  "{}"),
	C("a = 1\r\n"
	  "b = \"x\"\r\n"
	  "[t]\r\n"
	  "c = \"\"\"x\r\n"
	  "y\"\"\"\r\n"
	  "d = \"\"\"a \\\r\n"
	  "  b\"\"\"\r\n",
	  "{\"a\":1,\"b\":\"x\",\"t\":{\"c\":\"x\\ny\",\"d\":\"a b\"}}"),
	C("",
	  "{}"),
	C("a = 1",
	  "{\"a\":1}"),
	C("a = \"x\\u0000y\"\n",
	  "{\"a\":\"x\\u0000y\"}"),
	C("# a\tb\n",
	  "{}"),
	C(" \t\n"
	  "\n",
	  "{}"),
};

static const struct tcase invalid_cases[] = {
	C("a = 1 2\n",
	  "line 1 column 7: expected the end of the line after the value, found '2'"),
	C("key\n",
	  "line 1 column 4: expected '=' after 'key', found end of line"),
	C("key =\n",
	  "line 1 column 6: expected a value, found end of line"),
	C("= 1\n",
	  "line 1 column 1: expected a key, found '='"),
	C("a# = 1\n",
	  "line 1 column 2: expected '=' after 'a', found '#'"),
	C("\\u00c0 = \"latin\"\n",
	  "line 1 column 1: expected a key, found '\\'"),
	C("\"\"\"long\n"
	  "key\"\"\" = 1\n",
	  "line 1 column 1: a multi-line string cannot be a key"),
	C("barekey\n"
	  "   = 123\n",
	  "line 1 column 8: expected '=' after 'barekey', found end of line"),
	C("a = 1 b = 2\n",
	  "line 1 column 7: expected the end of the line after the value, found 'b'"),
	C("[abc = 1\n",
	  "line 1 column 6: expected ']' after the table name, found '='"),
	C("partial\"quoted\" = 5\n",
	  "line 1 column 8: expected '=' after 'partial', found '\"'"),
	C("a b = 1\n",
	  "line 1 column 3: expected '=' after 'a', found 'b'"),
	C("μ = \"greek\"\n",
	  "line 1 column 1: expected a key, found 'μ'"),
	C(".key = 1\n",
	  "line 1 column 1: expected a key, found '.'"),
	C("key= = 1\n",
	  "line 1 column 6: expected a value, found '='"),
	C("a==1\n",
	  "line 1 column 3: expected a value, found '='"),
	C("a=b=1\n",
	  "line 1 column 3: invalid value 'b'"),
	C("fs.fw\n",
	  "line 1 column 6: expected '=' after 'fs.fw', found end of line"),
	C("fs.fw =\n",
	  "line 1 column 8: expected a value, found end of line"),
	C("fs.\n",
	  "line 1 column 4: expected a key, found end of line"),
	C("[[agencies]] owner = \"S Cjelli\"\n",
	  "line 1 column 14: expected the end of the line after the header, found 'o'"),
	C("[error] this = \"should not be here\"\n",
	  "line 1 column 9: expected the end of the line after the header, found 't'"),
	C("first = \"Tom\" last = \"Preston-Werner\"\n",
	  "line 1 column 15: expected the end of the line after the value, found 'l'"),
	C("bare!key = 123\n",
	  "line 1 column 5: expected '=' after 'bare', found '!'"),
	C("a = \"\\xAg\"\n",
	  "line 1 column 6: invalid escape '\\x'"),
	C("a = \"first\" \"second\"\n",
	  "line 1 column 13: expected the end of the line after the value, found '\"'"),
	C("a = \"bad \\a escape\"\n",
	  "line 1 column 10: invalid escape '\\a'"),
	C("a = \"bad \\  escape\"\n",
	  "line 1 column 10: invalid escape '\\ '"),
	C("a = \"\\\"\n",
	  "line 1 column 5: unterminated string"),
	C("a = \"first line\n"
	  "second line\"\n",
	  "line 1 column 5: unterminated string"),
	C("a = \"bad \\/ escape\"\n",
	  "line 1 column 10: invalid escape '\\/'"),
	C("a = \"\\u000\"\n",
	  "line 1 column 6: invalid escape: '\\u' needs 4 hexadecimal digits"),
	C("a = \"\\uGGGG\"\n",
	  "line 1 column 6: invalid escape: '\\u' needs 4 hexadecimal digits"),
	C("a = \"\\U0000\"\n",
	  "line 1 column 6: invalid escape: '\\U' needs 8 hexadecimal digits"),
	C("a = \"\\u{1F600}\"\n",
	  "line 1 column 6: invalid escape: '\\u' needs 4 hexadecimal digits"),
	C("a = \"\\UFFFFFFFF\"\n",
	  "line 1 column 6: invalid escape '\\UFFFFFFFF': not a Unicode scalar value"),
	C("a = \"\\U00D80000\"\n",
	  "line 1 column 6: invalid escape '\\U00D80000': not a Unicode scalar value"),
	C("a = \"\\uD800\"\n",
	  "line 1 column 6: invalid escape '\\uD800': not a Unicode scalar value"),
	C("a = \"\"\"Here are three quotation marks: \"\"\".\"\"\"\n",
	  "line 1 column 43: expected the end of the line after the value, found '.'"),
	C("a = '''6 apostrophes: ''''''\n",
	  "line 1 column 23: too many apostrophes in a row at the end of a string"),
	C("a = \"\"\"6 quotes: \"\"\"\"\"\"\n",
	  "line 1 column 18: too many quotes in a row at the end of a string"),
	C("a = \"\"\"\n"
	  "  foo \\ bar\"\"\"\n",
	  "line 2 column 7: invalid escape: a backslash followed by whitespace must end the lin"
	  "e"),
	C("k = \"\"\"t\\a\"\"\"\n",
	  "line 1 column 9: invalid escape '\\a'"),
	C("k = \"\"\"t\\ t\"\"\"\n",
	  "line 1 column 9: invalid escape: a backslash followed by whitespace must end the lin"
	  "e"),
	C("k = \"\"\"t\\ \"\"\"\n",
	  "line 1 column 9: invalid escape: a backslash followed by whitespace must end the lin"
	  "e"),
	C("a = \"\"\"\\\"\"\"\n",
	  "line 1 column 5: unterminated string"),
	C("a = value\n",
	  "line 1 column 5: invalid value 'value'"),
	C("a = \"Is there life after strings?\" No.\n",
	  "line 1 column 36: expected the end of the line after the value, found 'N'"),
	C("a = \"double and single'\n",
	  "line 1 column 5: unterminated string"),
	C("a = 'unterminated\n",
	  "line 1 column 5: unterminated string"),
	C("a = '''unterminated\n",
	  "line 1 column 5: unterminated string"),
	C("a = \"\"\"unterminated\n",
	  "line 1 column 5: unterminated string"),
	C("a = 0B0\n",
	  "line 1 column 5: invalid number '0B0'"),
	C("a = 0X1\n",
	  "line 1 column 5: invalid number '0X1'"),
	C("a = 0O0\n",
	  "line 1 column 5: invalid number '0O0'"),
	C("a = --99\n",
	  "line 1 column 5: invalid value '--99'"),
	C("a = ++99\n",
	  "line 1 column 5: invalid value '++99'"),
	C("a = 1__23\n",
	  "line 1 column 5: misplaced '_' in '1__23'"),
	C("a = 0b\n",
	  "line 1 column 5: invalid binary integer '0b'"),
	C("a = 0x\n",
	  "line 1 column 5: invalid hexadecimal integer '0x'"),
	C("a = 0o\n",
	  "line 1 column 5: invalid octal integer '0o'"),
	C("a = 0b0012\n",
	  "line 1 column 5: invalid digit '2' in binary integer '0b0012'"),
	C("a = 0xaafz\n",
	  "line 1 column 5: invalid hexadecimal integer '0xaafz'"),
	C("a = 0xgabba00f1\n",
	  "line 1 column 5: invalid hexadecimal integer '0xgabba00f1'"),
	C("a = 0o778\n",
	  "line 1 column 5: invalid digit '8' in octal integer '0o778'"),
	C("a = _123\n",
	  "line 1 column 5: invalid value '_123'"),
	C("a = 0x_1\n",
	  "line 1 column 5: misplaced '_' in '0x_1'"),
	C("a = 01\n",
	  "line 1 column 5: leading zero in '01'"),
	C("a = 00\n",
	  "line 1 column 5: leading zero in '00'"),
	C("a = 0_0\n",
	  "line 1 column 5: leading zero in '0_0'"),
	C("a = -01\n",
	  "line 1 column 5: leading zero in '-01'"),
	C("a = +01\n",
	  "line 1 column 5: leading zero in '+01'"),
	C("a = +0_1\n",
	  "line 1 column 5: leading zero in '+0_1'"),
	C("a = -0b11010110\n",
	  "line 1 column 5: invalid integer '-0b11010110'"),
	C("a = +0xff\n",
	  "line 1 column 5: invalid integer '+0xff'"),
	C("a = -0o7\n",
	  "line 1 column 5: invalid integer '-0o7'"),
	C("a = 42 the ultimate answer?\n",
	  "line 1 column 8: expected the end of the line after the value, found 't'"),
	C("a = 123_\n",
	  "line 1 column 5: misplaced '_' in '123_'"),
	C("a = 0b1_\n",
	  "line 1 column 5: misplaced '_' in '0b1_'"),
	C("a = 9223372036854775808\n",
	  "line 1 column 5: integer '9223372036854775808' does not fit in 64 bits"),
	C("a = -9223372036854775809\n",
	  "line 1 column 5: integer '-9223372036854775809' does not fit in 64 bits"),
	C("a = 0x8000000000000000\n",
	  "line 1 column 5: integer '0x8000000000000000' does not fit in 64 bits"),
	C("a = 0xFFFFFFFFFFFFFFFF\n",
	  "line 1 column 5: integer '0xFFFFFFFFFFFFFFFF' does not fit in 64 bits"),
	C("a = 99999999999999999999999\n",
	  "line 1 column 5: integer '99999999999999999999999' does not fit in 64 bits"),
	C("a = 0..1\n",
	  "line 1 column 5: invalid float '0..1'"),
	C("a = 0.1.2\n",
	  "line 1 column 5: invalid float '0.1.2'"),
	C("a = 1ee2\n",
	  "line 1 column 5: invalid float '1ee2': the exponent has no digits"),
	C("a = 1e2e3\n",
	  "line 1 column 5: invalid float '1e2e3'"),
	C("a = 1e2__3\n",
	  "line 1 column 5: misplaced '_' in '1e2__3'"),
	C("a = 1e_23\n",
	  "line 1 column 5: misplaced '_' in '1e_23'"),
	C("a = 1e2.3\n",
	  "line 1 column 5: invalid float '1e2.3'"),
	C("a = 1.e2\n",
	  "line 1 column 5: invalid float '1.e2'"),
	C("a = 1e\n",
	  "line 1 column 5: invalid float '1e': the exponent has no digits"),
	C("a = 1e23_\n",
	  "line 1 column 5: misplaced '_' in '1e23_'"),
	C("a = Inf\n",
	  "line 1 column 5: invalid value 'Inf'"),
	C("a = in\n",
	  "line 1 column 5: invalid value 'in'"),
	C("a = in_f\n",
	  "line 1 column 5: invalid value 'in_f'"),
	C("a = .12345\n",
	  "line 1 column 5: invalid float '.12345'"),
	C("a = -.12345\n",
	  "line 1 column 5: invalid float '-.12345'"),
	C("a = _1.01\n",
	  "line 1 column 5: invalid value '_1.01'"),
	C("a = 03.14\n",
	  "line 1 column 5: leading zero in '03.14'"),
	C("a = -03.14\n",
	  "line 1 column 5: leading zero in '-03.14'"),
	C("a = NaN\n",
	  "line 1 column 5: invalid value 'NaN'"),
	C("a = 1.\n",
	  "line 1 column 5: invalid float '1.'"),
	C("a = -1.\n",
	  "line 1 column 5: invalid float '-1.'"),
	C("a = 1.2_\n",
	  "line 1 column 5: misplaced '_' in '1.2_'"),
	C("a = 1._2\n",
	  "line 1 column 5: misplaced '_' in '1._2'"),
	C("a = 1_.2\n",
	  "line 1 column 5: misplaced '_' in '1_.2'"),
	C("a = 1_e2\n",
	  "line 1 column 5: misplaced '_' in '1_e2'"),
	C("a = 1.2_e2\n",
	  "line 1 column 5: misplaced '_' in '1.2_e2'"),
	C("a = 1e400\n",
	  "line 1 column 5: float '1e400' is out of range"),
	C("a = -1e400\n",
	  "line 1 column 5: float '-1e400' is out of range"),
	C("a = infinity\n",
	  "line 1 column 5: invalid value 'infinity'"),
	C("a = tru\n",
	  "line 1 column 5: invalid value 'tru'"),
	C("a = True\n",
	  "line 1 column 5: invalid value 'True'"),
	C("a = truee\n",
	  "line 1 column 5: invalid value 'truee'"),
	C("a = t\n",
	  "line 1 column 5: invalid value 't'"),
	C("a = falsify\n",
	  "line 1 column 5: invalid value 'falsify'"),
	C("a = fals\n",
	  "line 1 column 5: invalid value 'fals'"),
	C("a = 1987-7-05T17:45:00Z\n",
	  "line 1 column 5: invalid date-time '1987-7-05T17:45:00Z': expected YYYY-MM-DD"),
	C("a = 1987-07-5T17:45:00Z\n",
	  "line 1 column 5: invalid date-time '1987-07-5T17:45:00Z': expected YYYY-MM-DD"),
	C("a = 1987-07-05T17:45Z\n",
	  "line 1 column 5: invalid date-time '1987-07-05T17:45Z': seconds are required (HH:MM:"
	  "SS)"),
	C("a = 1987-07-0517:45:00Z\n",
	  "line 1 column 5: invalid date-time '1987-07-0517:45:00Z': expected YYYY-MM-DD"),
	C("a = 1987-07-05T17:45:0Z\n",
	  "line 1 column 5: invalid date-time '1987-07-05T17:45:0Z': expected HH:MM:SS"),
	C("a = 2006-01-01T24:00:00-00:00\n",
	  "line 1 column 5: invalid date-time '2006-01-01T24:00:00-00:00': the hour is out of r"
	  "ange (00 to 23)"),
	C("a = 2006-01-32T00:00:00-00:00\n",
	  "line 1 column 5: invalid date-time '2006-01-32T00:00:00-00:00': 2006-01 has no day 3"
	  "2"),
	C("a = 2006-01-00T00:00:00-00:00\n",
	  "line 1 column 5: invalid date-time '2006-01-00T00:00:00-00:00': 2006-01 has no day 0"
	  "0"),
	C("a = 2006-01-01T00:60:00-00:00\n",
	  "line 1 column 5: invalid date-time '2006-01-01T00:60:00-00:00': the minute is out of"
	  " range (00 to 59)"),
	C("a = 2006-13-01T00:00:00-00:00\n",
	  "line 1 column 5: invalid date-time '2006-13-01T00:00:00-00:00': the month is out of "
	  "range (01 to 12)"),
	C("a = 2006-00-01T00:00:00-00:00\n",
	  "line 1 column 5: invalid date-time '2006-00-01T00:00:00-00:00': the month is out of "
	  "range (01 to 12)"),
	C("a = 2006-01-01T00:00:61-00:00\n",
	  "line 1 column 5: invalid date-time '2006-01-01T00:00:61-00:00': the second is out of"
	  " range (00 to 60)"),
	C("a = 2023-02-29T00:00:00Z\n",
	  "line 1 column 5: invalid date-time '2023-02-29T00:00:00Z': 2023-02 has no day 29"),
	C("a = 2023-02-30\n",
	  "line 1 column 5: invalid date-time '2023-02-30': 2023-02 has no day 30"),
	C("a = 1900-02-29\n",
	  "line 1 column 5: invalid date-time '1900-02-29': 1900-02 has no day 29"),
	C("a = 2006-01-30T\n",
	  "line 1 column 5: invalid date-time '2006-01-30T': expected HH:MM:SS"),
	C("a = 2006-01-30T00:00:00+24:00\n",
	  "line 1 column 5: invalid date-time '2006-01-30T00:00:00+24:00': the offset is out of"
	  " range"),
	C("a = 2006-01-30T00:00:00+00:60\n",
	  "line 1 column 5: invalid date-time '2006-01-30T00:00:00+00:60': the offset is out of"
	  " range"),
	C("a = 2006-01-30T00:00:00+0000\n",
	  "line 1 column 5: invalid date-time '2006-01-30T00:00:00+0000': expected an offset (Z"
	  ", +HH:MM or -HH:MM) after the time"),
	C("a = 2006-01-30T00:00:00.Z\n",
	  "line 1 column 5: invalid date-time '2006-01-30T00:00:00.Z': a decimal point in the s"
	  "econds needs digits after it"),
	C("a = 2006-01-30T00:00:00Zx\n",
	  "line 1 column 5: invalid date-time '2006-01-30T00:00:00Zx': unexpected characters af"
	  "ter the offset"),
	C("a = 07:32:00Z\n",
	  "line 1 column 5: invalid date-time '07:32:00Z': a time without a date cannot have an"
	  " offset"),
	C("a = 07:32:00+01:00\n",
	  "line 1 column 5: invalid date-time '07:32:00+01:00': a time without a date cannot ha"
	  "ve an offset"),
	C("a = 1:32:00\n",
	  "line 1 column 5: invalid date-time '1:32:00': expected HH:MM:SS"),
	C("a = 01:32:0\n",
	  "line 1 column 5: invalid date-time '01:32:0': expected HH:MM:SS"),
	C("a = 01:32\n",
	  "line 1 column 5: invalid date-time '01:32': seconds are required (HH:MM:SS)"),
	C("a = 24:00:00\n",
	  "line 1 column 5: invalid date-time '24:00:00': the hour is out of range (00 to 23)"),
	C("a = 1987-07-05T17:45:00.\n",
	  "line 1 column 5: invalid date-time '1987-07-05T17:45:00.': a decimal point in the se"
	  "conds needs digits after it"),
	C("a = [1,,2]\n",
	  "line 1 column 8: expected a value, found ','"),
	C("a = [1,2,,]\n",
	  "line 1 column 10: expected a value, found ','"),
	C("a = [ 1 2 3 ]\n",
	  "line 1 column 9: expected ',' or ']' in the array, found '2'"),
	C("a = [ 1, 2, 3\n",
	  "line 1 column 5: unterminated array"),
	C("a = [\n",
	  "line 1 column 5: unterminated array"),
	C("x = [{ key = 42\n",
	  "line 1 column 16: newline inside an inline table"),
	C("a = [true false]\n",
	  "line 1 column 11: expected ',' or ']' in the array, found 'f'"),
	C("a = [,]\n",
	  "line 1 column 6: expected a value, found ','"),
	C("a = [ , ]\n",
	  "line 1 column 7: expected a value, found ','"),
	C("a = [\n"
	  "  \"Is there life after an array separator?\", No\n"
	  "  \"Entry\"\n"
	  "]\n",
	  "line 2 column 46: invalid value 'No'"),
	C("a = [\n"
	  "  \"Entry1\",\n"
	  "  I don't belong,\n"
	  "  \"Entry2\",\n"
	  "]\n",
	  "line 3 column 3: invalid value 'I'"),
	C("a = { b = 1, [c] }\n",
	  "line 1 column 14: expected a key, found '['"),
	C("t = {x=3,,y=4}\n",
	  "line 1 column 10: expected a key, found ','"),
	C("t = { a = 1, a = 2 }\n",
	  "line 1 column 14: duplicate key 'a'"),
	C("t = { t2.dupe = 1, t2.dupe = 2 }\n",
	  "line 1 column 23: duplicate key 't2.dupe'"),
	C("t = { fruit = { apple.color = \"red\" }, fruit.apple.texture = { smooth = true }"
	  " }\n",
	  "line 1 column 40: cannot add to inline table 'fruit'"),
	C("t = {,}\n",
	  "line 1 column 6: expected a key, found ','"),
	C("t = {\n"
	  "}\n",
	  "line 1 column 6: newline inside an inline table"),
	C("t = {a=1,\n"
	  "b=2}\n",
	  "line 1 column 10: newline inside an inline table"),
	C("t = {a=1\n"
	  ",b=2}\n",
	  "line 1 column 9: newline inside an inline table"),
	C("json_like = {\n"
	  "  first = \"Tom\",\n"
	  "  last = \"Preston-Werner\"\n"
	  "}\n",
	  "line 1 column 14: newline inside an inline table"),
	C("t = {x = 3 y = 4}\n",
	  "line 1 column 12: expected ',' or '}' in the inline table, found 'y'"),
	C("t = {x = 3,}\n",
	  "line 1 column 12: trailing comma in an inline table"),
	C("t = {x = 3\n",
	  "line 1 column 11: newline inside an inline table"),
	C("a.b=0\n"
	  "a={}\n",
	  "line 2 column 1: duplicate key 'a'"),
	C("a={}\n"
	  "[a.b]\n",
	  "line 2 column 2: cannot add to inline table 'a'"),
	C("inline-t = { nest = {} }\n"
	  "[[inline-t.nest]]\n",
	  "line 2 column 3: cannot add to inline table 'inline-t'"),
	C("inline-t = { nest = {} }\n"
	  "[inline-t.nest]\n",
	  "line 2 column 2: cannot add to inline table 'inline-t'"),
	C("a = {}\n"
	  "a.b = 1\n",
	  "line 2 column 1: cannot add to inline table 'a'"),
	C("[tab.nested]\n"
	  "inline-t = { nest = {} }\n"
	  "[tab]\n"
	  "nested.inline-t.nest = 2\n",
	  "line 4 column 1: dotted keys cannot add to table 'nested', which has a header"),
	C("[product]\n"
	  "type = { name = \"Nail\" }\n"
	  "type.edible = false\n",
	  "line 3 column 1: cannot add to inline table 'type'"),
	C("[product]\n"
	  "type.name = \"Nail\"\n"
	  "type = { edible = false }\n",
	  "line 3 column 1: duplicate key 'type'"),
	C("[fruit]\n"
	  "apple.color = \"red\"\n"
	  "apple.taste.sweet = true\n"
	  "[fruit.apple]\n",
	  "line 4 column 8: table 'fruit.apple' is already defined by dotted keys"),
	C("[fruit]\n"
	  "apple.color = \"red\"\n"
	  "apple.taste.sweet = true\n"
	  "[fruit.apple.taste]\n",
	  "line 4 column 14: table 'fruit.apple.taste' is already defined by dotted keys"),
	C("[[tab.arr]]\n"
	  "[tab]\n"
	  "arr.val1=1\n",
	  "line 3 column 1: dotted keys cannot add to array 'arr'"),
	C("a = [{ b = 1 }]\n"
	  "[a.c]\n"
	  "foo = 1\n",
	  "line 2 column 2: cannot extend array 'a': it is a static array"),
	C("fruit = []\n"
	  "[[fruit]]\n",
	  "line 2 column 3: cannot extend array 'fruit': it is a static array"),
	C("[[fruit]]\n"
	  "  name = \"apple\"\n"
	  "  [[fruit.variety]]\n"
	  "    name = \"red delicious\"\n"
	  "  [fruit.variety]\n"
	  "    name = \"granny smith\"\n",
	  "line 5 column 10: 'fruit.variety' is an array of tables, not a table"),
	C("[[a.b]]\n"
	  "[a]\n"
	  "b.y = 2\n",
	  "line 3 column 1: dotted keys cannot add to array 'b'"),
	C("[a.b.c]\n"
	  "  z = 9\n"
	  "[a]\n"
	  "  b.c.t = \"no\"\n",
	  "line 4 column 5: dotted keys cannot add to table 'b.c', which has a header"),
	C("[a.b.c.d]\n"
	  "  z = 9\n"
	  "[a]\n"
	  "  b.c.d.k.t = \"no\"\n",
	  "line 4 column 7: dotted keys cannot add to table 'b.c.d', which has a header"),
	C("[[albums.songs]]\n"
	  "name = \"Glory Days\"\n"
	  "[[albums]]\n"
	  "name = \"Born in the USA\"\n",
	  "line 3 column 3: 'albums' is already a table, not an array of tables"),
	C("[[parent-table.arr]]\n"
	  "[parent-table]\n"
	  "not-arr = 1\n"
	  "arr = 2\n",
	  "line 4 column 1: duplicate key 'arr'"),
	C("a=true\n"
	  "[[a]]\n",
	  "line 2 column 3: 'a' is already a boolean, not a table"),
	C("a=1\n"
	  "[a.b.c.d]\n",
	  "line 2 column 2: 'a' is already an integer, not a table"),
	C("[fruit]\n"
	  "type = \"apple\"\n"
	  "[fruit.type]\n"
	  "apple = \"yes\"\n",
	  "line 3 column 8: 'fruit.type' is already a string, not a table"),
	C("[tbl]\n"
	  "[[tbl]]\n",
	  "line 2 column 3: 'tbl' is already a table, not an array of tables"),
	C("[[tbl]]\n"
	  "[tbl]\n",
	  "line 2 column 2: 'tbl' is an array of tables, not a table"),
	C("[]\n",
	  "line 1 column 2: expected a table name, found ']'"),
	C("[naughty..naughty]\n",
	  "line 1 column 10: expected a table name, found '.'"),
	C("[invalid key]\n",
	  "line 1 column 10: expected ']' after the table name, found 'k'"),
	C("[key#group]\n"
	  "answer = 42\n",
	  "line 1 column 5: expected ']' after the table name, found '#'"),
	C("[name=bad]\n",
	  "line 1 column 6: expected ']' after the table name, found '='"),
	C("[a]b]\n",
	  "line 1 column 4: expected the end of the line after the header, found 'b'"),
	C("[a[b]\n",
	  "line 1 column 3: expected ']' after the table name, found '['"),
	C("[[table] ]\n",
	  "line 1 column 9: expected ']]' to close the header, found ']' and ' '"),
	C("[ [table]]\n",
	  "line 1 column 3: expected a table name, found '['"),
	C("[error] this shouldn't be here\n",
	  "line 1 column 9: expected the end of the line after the header, found 't'"),
	C("[[]]\n",
	  "line 1 column 3: expected a table name, found ']'"),
	C("[[albums]\n"
	  "a = 1\n",
	  "line 1 column 10: expected ']]' to close the header, found ']' and end of line"),
	C("[a\n",
	  "line 1 column 3: expected ']' after the table name, found end of line"),
	C("[a.]\n",
	  "line 1 column 4: expected a table name, found ']'"),
	C("[.a]\n",
	  "line 1 column 2: expected a table name, found '.'"),
	C("a = false\n"
	  "a.b = true\n",
	  "line 2 column 1: 'a' is already a boolean, not a table"),
	C("[t1]\n"
	  "t2.t3.v = 0\n"
	  "[t1.t2]\n",
	  "line 3 column 5: table 't1.t2' is already defined by dotted keys"),
	C("[t1]\n"
	  "t2.t3.v = 0\n"
	  "[t1.t2.t3]\n",
	  "line 3 column 8: table 't1.t2.t3' is already defined by dotted keys"),
	C("dupe = false\n"
	  "dupe = true\n",
	  "line 2 column 1: duplicate key 'dupe'"),
	C("[fruit]\n"
	  "type = \"apple\"\n"
	  "[fruit]\n"
	  "apple = \"yes\"\n",
	  "line 3 column 2: table 'fruit' is already defined"),
	C("[a.b]\n"
	  "[a]\n"
	  "[a]\n",
	  "line 3 column 2: table 'a' is already defined"),
	C("[fruit]\n"
	  "apple.color = \"red\"\n"
	  "[[fruit.apple]]\n",
	  "line 3 column 9: 'fruit.apple' is already a table, not an array of tables"),
	C("[a]\n"
	  "b = 1\n"
	  "[a.b]\n",
	  "line 3 column 4: 'a.b' is already an integer, not a table"),
	C("a = \"\"\"a\"\"\"b\n",
	  "line 1 column 12: expected the end of the line after the value, found 'b'"),
	C("# a\rb\n",
	  "line 1 column 4: control character U+000D in a comment"),
	C("# a\000\n",
	  "line 1 column 4: control character U+0000 in a comment"),
	C("# a\037\n",
	  "line 1 column 4: control character U+001F in a comment"),
	C("a = 1\rb = 2\n",
	  "line 1 column 6: carriage return without a line feed"),
	C("a = 1\014\n",
	  "line 1 column 6: expected the end of the line after the value, found U+000C"),
	C("a = \"\"\"a\rb\"\"\"\n",
	  "line 1 column 9: carriage return without a line feed"),
	C("a = \"\"\"a\177b\"\"\"\n",
	  "line 1 column 9: control character U+007F in a string"),
	C("a = \"\"\"a\000b\"\"\"\n",
	  "line 1 column 9: control character U+0000 in a string"),
	C("a = 1\000\n",
	  "line 1 column 6: expected the end of the line after the value, found U+0000"),
	C("a = 'a\177'\n",
	  "line 1 column 7: control character U+007F in a string"),
	C("a = '''a\000'''\n",
	  "line 1 column 9: control character U+0000 in a string"),
	C("a = \"\010\"\n",
	  "line 1 column 6: control character U+0008 in a string"),
	C("a = 1\013\n",
	  "line 1 column 6: expected the end of the line after the value, found U+000B"),
	C("a = \"\377\"\n",
	  "line 1 column 6: invalid UTF-8"),
	C("a = 1\n"
	  "﻿b = 2\n",
	  "line 2 column 1: expected a key, found '﻿'"),
	C("# \376\n",
	  "line 1 column 3: invalid UTF-8"),
	C("a = 1 # \342\202",
	  "line 1 column 9: invalid UTF-8"),
	C("a = \"\300\257\"\n",
	  "line 1 column 6: invalid UTF-8"),
	C("a = \"\355\240\200\"\n",
	  "line 1 column 6: invalid UTF-8"),
	C("\377\376\377\376a\000 \000=\000 \0001\000\n"
	  "\000",
	  "line 1 column 1: invalid UTF-8"),
};

/* Realistic documents of each kind dsbuild reads. */
static const char pyproject_toml[] =
	"[build-system]\n"
	"requires = [\"setuptools>=68\", \"wheel\"]\n"
	"build-backend = \"setuptools.build_meta\"\n"
	"\n"
	"[project]\n"
	"name = \"inventory-api\"\n"
	"version = \"1.4.2\"\n"
	"description = \"Stock levels over HTTP\"\n"
	"readme = \"README.md\"\n"
	"requires-python = \">=3.10\"\n"
	"license = { text = \"Apache-2.0\" }\n"
	"authors = [\n"
	"  { name = \"Ana Lima\", email = \"ana@example.com\" },\n"
	"  { name = \"Bo Chen\" },\n"
	"]\n"
	"keywords = [\"inventory\", \"api\"]\n"
	"classifiers = [\n"
	"    \"Programming Language :: Python :: 3\",\n"
	"    \"Framework :: FastAPI\",\n"
	"]\n"
	"dependencies = [\n"
	"    \"fastapi>=0.110,<1\",\n"
	"    \"uvicorn[standard]==0.29.0\",\n"
	"    'pydantic>=2; python_version >= \"3.10\"',\n"
	"    \"psycopg[binary]~=3.1\",  # the binary wheel: no libpq build\n"
	"]\n"
	"\n"
	"[project.optional-dependencies]\n"
	"test = [\"pytest>=8\", \"httpx\"]\n"
	"docs = []\n"
	"\n"
	"[project.scripts]\n"
	"inventory-api = \"inventory.main:run\"\n"
	"\n"
	"[project.urls]\n"
	"Homepage = \"https://example.com/inventory\"\n"
	"\"Bug Tracker\" = \"https://example.com/inventory/issues\"\n"
	"\n"
	"[tool.dsbuild]\n"
	"base = \"debian:bookworm\"\n"
	"ports = [8000]\n"
	"env = { PYTHONUNBUFFERED = \"1\", APP_ENV = \"production\" }\n"
	"\n"
	"[tool.dsbuild.process]\n"
	"web = \"uvicorn inventory.main:app --host 0.0.0.0 --port 8000\"\n"
	"\n"
	"[tool.ruff]\n"
	"line-length = 100\n"
	"lint.select = [\"E\", \"F\", \"I\"]\n"
	"\n"
	"[tool.pytest.ini_options]\n"
	"addopts = \"-q\"\n"
	"testpaths = [\"tests\"]\n";

static const char pyproject_json[] =
	"{\"build-system\":{\"requires\":[\"setuptools>=68\",\"wheel\"],\"build-backend\":\"set"
	"uptools.build_meta\"},\"project\":{\"name\":\"inventory-api\",\"version\":\"1.4.2\",\""
	"description\":\"Stock levels over HTTP\",\"readme\":\"README.md\",\"requires-python\":"
	"\">=3.10\",\"license\":{\"text\":\"Apache-2.0\"},\"authors\":[{\"name\":\"Ana Lima\","
	"\"email\":\"ana@example.com\"},{\"name\":\"Bo Chen\"}],\"keywords\":[\"inventory\",\"a"
	"pi\"],\"classifiers\":[\"Programming Language :: Python :: 3\",\"Framework :: FastAPI"
	"\"],\"dependencies\":[\"fastapi>=0.110,<1\",\"uvicorn[standard]==0.29.0\",\"pydantic>="
	"2; python_version >= \\\"3.10\\\"\",\"psycopg[binary]~=3.1\"],\"optional-dependencies"
	"\":{\"test\":[\"pytest>=8\",\"httpx\"],\"docs\":[]},\"scripts\":{\"inventory-api\":\"i"
	"nventory.main:run\"},\"urls\":{\"Homepage\":\"https://example.com/inventory\",\"Bug Tr"
	"acker\":\"https://example.com/inventory/issues\"}},\"tool\":{\"dsbuild\":{\"base\":\"d"
	"ebian:bookworm\",\"ports\":[8000],\"env\":{\"PYTHONUNBUFFERED\":\"1\",\"APP_ENV\":\"pr"
	"oduction\"},\"process\":{\"web\":\"uvicorn inventory.main:app --host 0.0.0.0 --port 80"
	"00\"}},\"ruff\":{\"line-length\":100,\"lint\":{\"select\":[\"E\",\"F\",\"I\"]}},\"pyte"
	"st\":{\"ini_options\":{\"addopts\":\"-q\",\"testpaths\":[\"tests\"]}}}}";

static const char pylock_toml[] =
	"lock-version = \"1.0\"\n"
	"environments = [\"sys_platform == 'linux'\"]\n"
	"requires-python = \">=3.11\"\n"
	"extras = []\n"
	"dependency-groups = []\n"
	"default-groups = []\n"
	"created-by = \"uv\"\n"
	"\n"
	"[[packages]]\n"
	"name = \"certifi\"\n"
	"version = \"2024.8.30\"\n"
	"index = \"https://pypi.org/simple\"\n"
	"\n"
	"[[packages.wheels]]\n"
	"name = \"certifi-2024.8.30-py3-none-any.whl\"\n"
	"upload-time = 2024-08-30T01:55:02.591Z\n"
	"url = \"https://files.pythonhosted.org/packages/12/90/certifi-2024.8.30-py3-none-any.w"
	"hl\"\n"
	"size = 167321\n"
	"hashes = { sha256 = \"922820b53db7a7257ffbda3f597266d435245903d80737e34f8a45ff3e3230d8"
	"\" }\n"
	"\n"
	"[[packages]]\n"
	"name = \"numpy\"\n"
	"version = \"2.1.1\"\n"
	"marker = \"python_version >= '3.11'\"\n"
	"requires-python = \">=3.10\"\n"
	"dependencies = []\n"
	"\n"
	"[[packages.wheels]]\n"
	"name = \"numpy-2.1.1-cp311-cp311-manylinux_2_17_x86_64.whl\"\n"
	"url = \"https://files.pythonhosted.org/packages/numpy-2.1.1-cp311-cp311-manylinux_2_17"
	"_x86_64.whl\"\n"
	"size = 16282523\n"
	"hashes = {sha256 = \"7fb9b1f4c6b2a4b1d64e2c3a6b3a6d9e2c1f0a1b2c3d4e5f60718293a4b5c6d7"
	"\"}\n"
	"\n"
	"[[packages]]\n"
	"name = \"mylib\"\n"
	"version = \"0.3.0\"\n"
	"directory = { path = \"./libs/mylib\", editable = true }\n"
	"\n"
	"[[packages]]\n"
	"name = \"attrs\"\n"
	"version = \"24.2.0\"\n"
	"vcs = { type = \"git\", url = \"https://github.com/python-attrs/attrs.git\", commit-id"
	" = \"a1b2c3d4e5f60718293a4b5c6d7e8f9012345678\" }\n"
	"\n"
	"[packages.tool.uv]\n"
	"source = \"git\"\n"
	"\n"
	"[tool.uv]\n"
	"resolution = \"highest\"\n";

static const char pylock_json[] =
	"{\"lock-version\":\"1.0\",\"environments\":[\"sys_platform == 'linux'\"],\"requires-py"
	"thon\":\">=3.11\",\"extras\":[],\"dependency-groups\":[],\"default-groups\":[],\"creat"
	"ed-by\":\"uv\",\"packages\":[{\"name\":\"certifi\",\"version\":\"2024.8.30\",\"index\""
	":\"https://pypi.org/simple\",\"wheels\":[{\"name\":\"certifi-2024.8.30-py3-none-any.wh"
	"l\",\"upload-time\":{\"$toml\":\"datetime\",\"value\":\"2024-08-30T01:55:02.591Z\"},\""
	"url\":\"https://files.pythonhosted.org/packages/12/90/certifi-2024.8.30-py3-none-any.w"
	"hl\",\"size\":167321,\"hashes\":{\"sha256\":\"922820b53db7a7257ffbda3f597266d435245903"
	"d80737e34f8a45ff3e3230d8\"}}]},{\"name\":\"numpy\",\"version\":\"2.1.1\",\"marker\":\""
	"python_version >= '3.11'\",\"requires-python\":\">=3.10\",\"dependencies\":[],\"wheels"
	"\":[{\"name\":\"numpy-2.1.1-cp311-cp311-manylinux_2_17_x86_64.whl\",\"url\":\"https://"
	"files.pythonhosted.org/packages/numpy-2.1.1-cp311-cp311-manylinux_2_17_x86_64.whl\",\""
	"size\":16282523,\"hashes\":{\"sha256\":\"7fb9b1f4c6b2a4b1d64e2c3a6b3a6d9e2c1f0a1b2c3d4"
	"e5f60718293a4b5c6d7\"}}]},{\"name\":\"mylib\",\"version\":\"0.3.0\",\"directory\":{\"p"
	"ath\":\"./libs/mylib\",\"editable\":true}},{\"name\":\"attrs\",\"version\":\"24.2.0\","
	"\"vcs\":{\"type\":\"git\",\"url\":\"https://github.com/python-attrs/attrs.git\",\"comm"
	"it-id\":\"a1b2c3d4e5f60718293a4b5c6d7e8f9012345678\"},\"tool\":{\"uv\":{\"source\":\"g"
	"it\"}}}],\"tool\":{\"uv\":{\"resolution\":\"highest\"}}}";

static const char buildpack_toml[] =
	"api = \"0.10\"\n"
	"\n"
	"[buildpack]\n"
	"id = \"dsbuild/python\"\n"
	"version = \"0.4.1\"\n"
	"name = \"Python\"\n"
	"homepage = \"https://example.com/buildpacks/python\"\n"
	"description = \"Installs a CPython runtime and the app's dependencies\"\n"
	"keywords = [\"python\", \"pip\"]\n"
	"\n"
	"[[buildpack.licenses]]\n"
	"type = \"Apache-2.0\"\n"
	"\n"
	"[[stacks]]\n"
	"id = \"*\"\n"
	"\n"
	"[[targets]]\n"
	"os = \"linux\"\n"
	"arch = \"amd64\"\n"
	"\n"
	"[[targets]]\n"
	"os = \"linux\"\n"
	"arch = \"arm64\"\n"
	"[[targets.distros]]\n"
	"name = \"debian\"\n"
	"version = \"12\"\n"
	"\n"
	"[metadata]\n"
	"include-files = [\"bin/build\", \"bin/detect\", \"buildpack.toml\"]\n"
	"pre-package = \"./scripts/build.sh\"\n"
	"\n"
	"[[metadata.dependencies]]\n"
	"id = \"python\"\n"
	"name = \"CPython\"\n"
	"version = \"3.11.9\"\n"
	"uri = \"https://example.com/python-3.11.9-linux-amd64.tgz\"\n"
	"sha256 = \"0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0\"\n"
	"stacks = [\"*\"]\n"
	"deprecation_date = 2027-10-31T00:00:00Z\n"
	"licenses = [{ type = \"PSF-2.0\", uri = \"https://docs.python.org/3/license.html\" }]"
	"\n"
	"\n"
	"[[metadata.configurations]]\n"
	"name = \"BP_PYTHON_VERSION\"\n"
	"default = \"3.11.*\"\n"
	"build = true\n"
	"description = \"the Python version to install\"\n"
	"\n"
	"[[order]]\n"
	"[[order.group]]\n"
	"id = \"dsbuild/python\"\n"
	"version = \"0.4.1\"\n"
	"optional = false\n";

static const char buildpack_json[] =
	"{\"api\":\"0.10\",\"buildpack\":{\"id\":\"dsbuild/python\",\"version\":\"0.4.1\",\"nam"
	"e\":\"Python\",\"homepage\":\"https://example.com/buildpacks/python\",\"description\":"
	"\"Installs a CPython runtime and the app's dependencies\",\"keywords\":[\"python\",\"p"
	"ip\"],\"licenses\":[{\"type\":\"Apache-2.0\"}]},\"stacks\":[{\"id\":\"*\"}],\"targets"
	"\":[{\"os\":\"linux\",\"arch\":\"amd64\"},{\"os\":\"linux\",\"arch\":\"arm64\",\"distr"
	"os\":[{\"name\":\"debian\",\"version\":\"12\"}]}],\"metadata\":{\"include-files\":[\"b"
	"in/build\",\"bin/detect\",\"buildpack.toml\"],\"pre-package\":\"./scripts/build.sh\","
	"\"dependencies\":[{\"id\":\"python\",\"name\":\"CPython\",\"version\":\"3.11.9\",\"uri"
	"\":\"https://example.com/python-3.11.9-linux-amd64.tgz\",\"sha256\":\"0f1e2d3c4b5a6978"
	"8796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0\",\"stacks\":[\"*\"],\"deprecation_da"
	"te\":{\"$toml\":\"datetime\",\"value\":\"2027-10-31T00:00:00Z\"},\"licenses\":[{\"type"
	"\":\"PSF-2.0\",\"uri\":\"https://docs.python.org/3/license.html\"}]}],\"configurations"
	"\":[{\"name\":\"BP_PYTHON_VERSION\",\"default\":\"3.11.*\",\"build\":true,\"descriptio"
	"n\":\"the Python version to install\"}]},\"order\":[{\"group\":[{\"id\":\"dsbuild/pyth"
	"on\",\"version\":\"0.4.1\",\"optional\":false}]}]}";

static const char builder_toml[] =
	"# Builder for the platform team: base image and buildpack order.\n"
	"description = \"Platform team builder\"\n"
	"\n"
	"[base]\n"
	"image = \"debian:bookworm\"\n"
	"mirror = 'http://deb.debian.org/debian'\n"
	"\n"
	"[[buildpacks]]\n"
	"uri = \"./buildpacks/python\"\n"
	"\n"
	"[[buildpacks]]\n"
	"uri = \"docker://registry.example.com/buildpacks/node:18\"\n"
	"\n"
	"[[order]]\n"
	"  [[order.group]]\n"
	"    id = \"dsbuild/python\"\n"
	"  [[order.group]]\n"
	"    id = \"dsbuild/procfile\"\n"
	"    optional = true\n"
	"\n"
	"[lifecycle]\n"
	"version = \"0.17.0\"\n";

static const char builder_json[] =
	"{\"description\":\"Platform team builder\",\"base\":{\"image\":\"debian:bookworm\",\"m"
	"irror\":\"http://deb.debian.org/debian\"},\"buildpacks\":[{\"uri\":\"./buildpacks/pyth"
	"on\"},{\"uri\":\"docker://registry.example.com/buildpacks/node:18\"}],\"order\":[{\"gr"
	"oup\":[{\"id\":\"dsbuild/python\"},{\"id\":\"dsbuild/procfile\",\"optional\":true}]}],"
	"\"lifecycle\":{\"version\":\"0.17.0\"}}";

/* A one-line label for a TAP description: no newlines, at most about 60 bytes. */
static const char *label(const char *s, size_t n)
{
	static char buf[128];
	size_t i, o = 0;

	for (i = 0; i < n && o < 60; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n' || c == '\r' || c == '\t')
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "\\%c",
					      c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
		else if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	if (i < n && o + 4 < sizeof(buf))
		memcpy(buf + o, "...", 4);
	return buf;
}

static char *dump(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
}

/* The text is copied to a buffer of exactly n bytes, so that reading past the end is caught
 * under AddressSanitizer (a string literal has a NUL after it). */
static int parse_exact(json_t **out, const char *s, size_t n, ds_error *err)
{
	char *copy = s ? malloc(n ? n : 1) : NULL;
	int r;

	if (s && !copy)
		abort();
	if (n)
		memcpy(copy, s, n);
	r = ds_toml_parse(out, "t.toml", copy, n, err);
	free(copy);
	return r;
}

static json_t *parse(const char *s, size_t n, ds_error *err)
{
	json_t *j = NULL;

	if (parse_exact(&j, s, n, err) < 0)
		return NULL;
	return j;
}

static json_t *parse_s(const char *s, ds_error *err)
{
	return parse(s, s ? strlen(s) : 0, err);
}

/* Parses and compares the tree, key order included, with the JSON want. */
static void is_tree(const char *s, size_t n, const char *want, const char *what)
{
	ds_error err = DS_ERROR_INIT;
	json_error_t je;
	json_t *got = parse(s, n, &err);
	json_t *w = json_loads(want, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	char *g, *ws;

	if (!w) {
		printf("# bad expected JSON for %s: %s\n", what, je.text);
		exit(99);
	}
	ok_err(got != NULL, &err, "%s parses", what);
	g = got ? dump(got) : NULL;
	ws = dump(w);
	is_str(g, ws, "  %s gives the expected tree", what);
	free(g);
	free(ws);
	json_decref(got);
	json_decref(w);
}

/* Fails with DS_EFORMAT, the message "'t.toml' " + want (and the hint when given), and
 * leaves the output alone. */
static void is_error(const char *s, size_t n, int code, const char *want, const char *hint,
		     const char *what)
{
	ds_error err = DS_ERROR_INIT;
	json_t *sentinel = json_object(), *out = sentinel;
	char msg[DS_ERROR_MSG_MAX];

	ok(parse_exact(&out, s, n, &err) == -1 && out == sentinel, "%s is refused", what);
	snprintf(msg, sizeof(msg), "'t.toml' %s", want);
	is_str(err.msg, msg, "  message for %s", what);
	is_int(err.code, code, "  code for %s", what);
	if (hint)
		is_str(err.hint, hint, "  hint for %s", what);
	json_decref(sentinel);
}

#define ERR(s, want, hint)                                                                        \
	is_error(s, sizeof(s) - 1, DS_EFORMAT, want, hint, label(s, sizeof(s) - 1))

/* The spec's cases and toml-test's, one by one. */
static void test_cases(void)
{
	size_t i;

	for (i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
		const struct tcase *c = &valid_cases[i];
		is_tree(c->toml, c->len, c->want, label(c->toml, c->len));
	}
	for (i = 0; i < sizeof(invalid_cases) / sizeof(invalid_cases[0]); i++) {
		const struct tcase *c = &invalid_cases[i];
		is_error(c->toml, c->len, DS_EFORMAT, c->want, NULL, label(c->toml, c->len));
	}
}

/* Whole messages with their hints, for the mistakes people make. */
static void test_messages(void)
{
	ERR("[project]\nname = \"a\"\nversion = \"1\"\nname = \"b\"\n",
	    "line 4 column 1: duplicate key 'name'", "a key can be set only once in a table");
	ERR("[tool.dsbuild]\nbase = \"scratch\"\n\n[tool.dsbuild]\nports = [80]\n",
	    "line 4 column 7: table 'tool.dsbuild' is already defined",
	    "it is defined at line 1; a table can be defined only once");
	ERR("[project]\nname = demo\n", "line 2 column 8: invalid value 'demo'",
	    "to write a string, quote it: \"demo\"");
	ERR("[project]\ndependencies = [\n  \"requests\",\n  \"flask\"\n  \"gunicorn\",\n]\n",
	    "line 5 column 3: expected ',' or ']' in the array, found '\"'", NULL);
	ERR("a = {\n  b = 1\n}\n", "line 1 column 6: newline inside an inline table",
	    "an inline table is written on one line; use a [table] section for more");
	ERR("path = \"C:\\Users\\me\"\n",
	    "line 1 column 11: invalid escape: '\\U' needs 8 hexadecimal digits",
	    "the escapes are \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX; write a "
	    "backslash as \\\\, or use a 'literal string'");
	ERR("enabled = True\n", "line 1 column 11: invalid value 'True'",
	    "booleans are lowercase: true, false");
	ERR("[fruit]\napple.color = \"red\"\n\n[fruit.apple]\n",
	    "line 4 column 8: table 'fruit.apple' is already defined by dotted keys",
	    "the dotted key at line 2 creates it; a table created by dotted keys cannot have a "
	    "header");
	ERR("[[tool.dsbuild.process]]\nname = \"web\"\n[tool.dsbuild.process]\n",
	    "line 3 column 15: 'tool.dsbuild.process' is an array of tables, not a table",
	    "[[tool.dsbuild.process]] adds an element to it");
	ERR("packages = []\n[[packages]]\nname = \"x\"\n",
	    "line 2 column 3: cannot extend array 'packages': it is a static array",
	    "an array written as key = [...] is complete where it is written");
	ERR("size = 18446744073709551615\n",
	    "line 1 column 8: integer '18446744073709551615' does not fit in 64 bits",
	    "TOML integers range from -9223372036854775808 to 9223372036854775807");
	ERR("d = 2023-02-29\n",
	    "line 1 column 5: invalid date-time '2023-02-29': 2023-02 has no day 29",
	    "TOML dates and times follow RFC 3339: 1979-05-27T07:32:00Z, 1979-05-27T07:32:00, "
	    "1979-05-27, 07:32:00");
	ERR("x = 1\n\"$toml\" = \"datetime\"\n", "line 2 column 1: the key '$toml' is reserved",
	    "dsbuild marks dates and special floats with a '$toml' member; rename the key");
	ERR("t = { a.\"$toml\" = 1 }\n", "line 1 column 9: the key '$toml' is reserved", NULL);
	ERR("name = \"x\"\r\nversion = 1 2\r\n",
	    "line 2 column 13: expected the end of the line after the value, found '2'",
	    "each key = value pair and each [table] header goes on a line of its own");
	ERR("a = 1\rb = 2\n", "line 1 column 6: carriage return without a line feed",
	    "TOML lines end with LF or CRLF");
	ERR("s = \"unterminated\nt = 1\n", "line 1 column 5: unterminated string",
	    "a string in \" quotes ends on its line; use \"\"\" for a multi-line string");
	ERR("a = 'x\177'\n", "line 1 column 7: control character U+007F in a string",
	    "use a \"basic string\" with the escape \\u007F");
	ERR("a = \"\xff\"\n", "line 1 column 6: invalid UTF-8",
	    "TOML files are UTF-8; convert it, e.g. with iconv -t UTF-8");
	ERR("\xff\xfe" "a\0=\0", "line 1 column 1: invalid UTF-8",
	    "the file looks like UTF-16; TOML files are UTF-8");
	ERR("a = [1, 2\n", "line 1 column 5: unterminated array", "close it with ']'");
	ERR("[tab.nested]\nx = 1\n[tab]\nnested.y = 2\n",
	    "line 4 column 1: dotted keys cannot add to table 'nested', which has a header",
	    "put the key in that table's own section (line 1)");
}

/* How tables may be reopened, beyond the toml-test cases; each agrees with Python's tomllib. */
static void test_redefinition(void)
{
#define TREE(s, want) is_tree(s, sizeof(s) - 1, want, label(s, sizeof(s) - 1))
	/* dotted keys through a table that only a header path made: allowed, but then a header
	 * may not define it */
	TREE("[a.b.c]\n[a]\nb.x = 2\n[a.b.d]\n", "{\"a\":{\"b\":{\"c\":{},\"x\":2,\"d\":{}}}}");
	ERR("[a.b.c]\n[a]\nb.x = 2\n[a.b]\n",
	    "line 4 column 4: table 'a.b' is already defined by dotted keys", NULL);
	/* a header may go below a table made by dotted keys, in an array element too */
	TREE("[a]\nb.c.d = 1\n[a.b.c.e]\nf = 1\n",
	     "{\"a\":{\"b\":{\"c\":{\"d\":1,\"e\":{\"f\":1}}}}}");
	TREE("[[a]]\nb.c = 1\n[a.b.d]\n", "{\"a\":[{\"b\":{\"c\":1,\"d\":{}}}]}");
	ERR("[[a]]\nb.c = 1\n[[a]]\nb.c = 2\n[a.b]\n",
	    "line 5 column 4: table 'a.b' is already defined by dotted keys", NULL);
	/* each element of an array of tables is a fresh namespace */
	TREE("[[a.b]]\n[a.b.c]\n[[a.b]]\n[a.b.c]\n", "{\"a\":{\"b\":[{\"c\":{}},{\"c\":{}}]}}");
	/* dotted keys may not go through a table some header defined */
	ERR("[a.b.c]\n[a]\nb.x = 1\nb.c.z = 3\n",
	    "line 4 column 3: dotted keys cannot add to table 'b.c', which has a header", NULL);
	ERR("x = {a.b = 1}\n[x.a]\n", "line 2 column 2: cannot add to inline table 'x'", NULL);
#undef TREE
}

/* Values cut off by the end of the input (found by fuzzing: "a = -" read one byte past it). */
static void test_truncated(void)
{
	ERR("a = -", "line 1 column 5: expected a value, found end of file", NULL);
	ERR("a = +", "line 1 column 5: expected a value, found end of file", NULL);
	ERR("a = -\n", "line 1 column 5: expected a value, found end of line", NULL);
}

/* Every prefix of every valid case and document parses, or fails with a positioned message; run
 * under AddressSanitizer this shows nothing reads past the end of the input. */
static int prefixes_ok(const char *s, size_t len)
{
	size_t n;
	int bad = 0;

	for (n = 0; n <= len; n++) {
		ds_error err = DS_ERROR_INIT;
		json_t *j = NULL;
		if (parse_exact(&j, s, n, &err) == 0)
			json_decref(j);
		else if (strncmp(err.msg, "'t.toml' line ", 14) != 0)
			bad++;
	}
	return bad == 0;
}

static void test_prefixes(void)
{
	size_t i, bad = 0;

	for (i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++)
		bad += !prefixes_ok(valid_cases[i].toml, valid_cases[i].len);
	bad += !prefixes_ok(pyproject_toml, sizeof(pyproject_toml) - 1);
	bad += !prefixes_ok(pylock_toml, sizeof(pylock_toml) - 1);
	bad += !prefixes_ok(buildpack_toml, sizeof(buildpack_toml) - 1);
	bad += !prefixes_ok(builder_toml, sizeof(builder_toml) - 1);
	is_int(bad, 0, "every prefix of the valid cases and documents parses or fails cleanly");
}

/* Columns count characters, not bytes; a byte order mark is not a column; CRLF is one line
 * end. */
static void test_positions(void)
{
	ERR("\"é\" = 1\n\"é\" = 2\n", "line 2 column 1: duplicate key '\"é\"'", NULL);
	ERR("a = \"é😀\" x\n", "line 1 column 10: expected the end of the line after the value, "
	    "found 'x'", NULL);
	ERR("\xEF\xBB\xBF" "a = 1 2\n", "line 1 column 7: expected the end of the line after the "
	    "value, found '2'", NULL);
	ERR("a = 1\r\n\r\n  b = 1 2\r\n", "line 3 column 9: expected the end of the line after "
	    "the value, found '2'", NULL);
	ERR("k = 'x'\nv = \"\"\"\nline\nline \\q\"\"\"\n", "line 4 column 6: invalid escape '\\q'",
	    NULL);
	ERR("x = 1\ny = ü\n", "line 2 column 5: expected a value, found 'ü'", NULL);
}

/* What callers get: strings with U+0000, key order, integers at the edges, -0.0, tags. */
static void test_mapping(void)
{
	ds_error err = DS_ERROR_INIT;
	json_t *j, *v;

	j = parse_s("a = \"x\\u0000y\"\n\"k\\u0000\" = 1\n", &err);
	ok_err(j != NULL, &err, "U+0000 from an escape parses");
	v = json_object_get(j, "a");
	ok(json_string_length(v) == 3 && !memcmp(json_string_value(v), "x\0y", 3),
	   "  the string keeps its U+0000 (json_string_length is 3)");
	ok(json_integer_value(json_object_getn(j, "k\0", 2)) == 1, "  so does the key");
	json_decref(j);

	j = parse_s("z = 1\na = 2\n[m]\ny = 3\nb = 4\n[c]\n", &err);
	v = json_object_get(j, "m");
	ok(j && !strcmp(json_object_iter_key(json_object_iter(j)), "z") &&
	   !strcmp(json_object_iter_key(json_object_iter(v)), "y"),
	   "keys keep document order when iterated");
	json_decref(j);

	j = parse_s("max = 9223372036854775807\nmin = -9223372036854775808\nz = -0.0\n", &err);
	ok_err(j != NULL, &err, "64-bit edges parse");
	is_int(json_integer_value(json_object_get(j, "max")), INT64_MAX, "  2^63-1");
	is_int(json_integer_value(json_object_get(j, "min")), INT64_MIN, "  -2^63");
	ok(json_is_real(json_object_get(j, "z")) &&
	   signbit(json_real_value(json_object_get(j, "z"))), "  -0.0 keeps its sign");
	json_decref(j);

	j = parse_s("d = 1979-05-27T07:32:00Z\nf = -inf\ns = \"1979-05-27\"\n"
		    "fake = { \"value\" = \"x\", other = \"y\" }\n", &err);
	ok_err(j != NULL, &err, "tagged values parse");
	is_str(ds_toml_tagged(json_object_get(j, "d"), "datetime"), "1979-05-27T07:32:00Z",
	       "  ds_toml_tagged gives the text of a datetime");
	is_str(ds_toml_tagged(json_object_get(j, "d"), NULL), "1979-05-27T07:32:00Z",
	       "  with any kind");
	ok(ds_toml_tagged(json_object_get(j, "d"), "date-local") == NULL,
	   "  and NULL for another kind");
	is_str(ds_toml_tag_kind(json_object_get(j, "f")), "float", "  -inf is a tagged float");
	is_str(ds_toml_tagged(json_object_get(j, "f"), "float"), "-inf", "  with text -inf");
	ok(ds_toml_tag_kind(json_object_get(j, "s")) == NULL, "  a string is not tagged");
	ok(ds_toml_tag_kind(json_object_get(j, "fake")) == NULL,
	   "  nor a two-key table without '$toml'");
	ok(ds_toml_tag_kind(NULL) == NULL && ds_toml_tagged(NULL, NULL) == NULL,
	   "  nor NULL");
	json_decref(j);

	j = parse(NULL, 0, &err);
	ok(j && json_is_object(j) && json_object_size(j) == 0, "no text is an empty document");
	json_decref(j);
	j = NULL;
	ok(ds_toml_parse(&j, "x", "a = ", 4, NULL) == -1 && j == NULL, "a NULL error is allowed");
}

static void test_documents(void)
{
	ds_error err = DS_ERROR_INIT;
	json_t *j, *v;

	is_tree(pyproject_toml, sizeof(pyproject_toml) - 1, pyproject_json, "pyproject.toml");
	is_tree(pylock_toml, sizeof(pylock_toml) - 1, pylock_json, "pylock.toml");
	is_tree(buildpack_toml, sizeof(buildpack_toml) - 1, buildpack_json, "buildpack.toml");
	is_tree(builder_toml, sizeof(builder_toml) - 1, builder_json, "builder.toml");

	/* the lookups callers make */
	j = parse(pyproject_toml, sizeof(pyproject_toml) - 1, &err);
	v = json_object_get(json_object_get(j, "project"), "dependencies");
	is_int(json_array_size(v), 4, "[project].dependencies has 4 entries");
	is_str(json_string_value(json_array_get(v, 2)), "pydantic>=2; python_version >= \"3.10\"",
	       "  the literal string keeps its double quotes");
	v = json_object_get(json_object_get(j, "tool"), "dsbuild");
	is_str(json_string_value(json_object_get(json_object_get(v, "env"), "APP_ENV")),
	       "production", "  [tool.dsbuild].env.APP_ENV");
	is_str(json_string_value(json_object_get(json_object_get(v, "process"), "web")),
	       "uvicorn inventory.main:app --host 0.0.0.0 --port 8000",
	       "  [tool.dsbuild.process].web");
	json_decref(j);

	j = parse(pylock_toml, sizeof(pylock_toml) - 1, &err);
	v = json_array_get(json_object_get(json_array_get(json_object_get(j, "packages"), 0),
					   "wheels"), 0);
	is_str(ds_toml_tagged(json_object_get(v, "upload-time"), "datetime"),
	       "2024-08-30T01:55:02.591Z", "pylock packages[0].wheels[0].upload-time");
	is_int(json_integer_value(json_object_get(v, "size")), 167321, "  and its size");
	v = json_array_get(json_object_get(j, "packages"), 3);
	is_str(json_string_value(json_object_get(json_object_get(json_object_get(v, "tool"), "uv"),
						 "source")),
	       "git", "  [packages.tool.uv] lands in the last package");
	json_decref(j);
}

/* head + unit * n + mid + close * n */
static char *nest(const char *head, const char *unit, size_t n, const char *mid, const char *close,
		  size_t *len)
{
	size_t hl = strlen(head), ul = strlen(unit), ml = strlen(mid), cl = strlen(close), i;
	char *s = malloc(hl + (ul + cl) * n + ml + 1), *p = s;

	if (!s)
		abort();
	memcpy(p, head, hl);
	p += hl;
	for (i = 0; i < n; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, mid, ml);
	p += ml;
	for (i = 0; i < n; i++, p += cl)
		memcpy(p, close, cl);
	*p = '\0';
	*len = (size_t)(p - s);
	return s;
}

static char *repeat(const char *head, const char *unit, size_t n, const char *tail, size_t *len)
{
	return nest(head, unit, n, tail, "", len);
}

/* A limit holds exactly at n_ok and fails one past it, with DS_ENOMEM. */
static void limit(const char *what, const char *head, const char *unit, size_t n_ok,
		  const char *mid, const char *close, const char *want)
{
	ds_error err = DS_ERROR_INIT;
	size_t len;
	char *s = nest(head, unit, n_ok, mid, close, &len);
	json_t *j = parse(s, len, &err);

	ok_err(j != NULL, &err, "%s: %zu is allowed", what, n_ok);
	json_decref(j);
	free(s);
	s = nest(head, unit, n_ok + 1, mid, close, &len);
	j = parse(s, len, &err);
	ok(j == NULL && err.code == DS_ENOMEM, "%s: %zu is refused with DS_ENOMEM", what, n_ok + 1);
	has_str(err.msg, want, "  message for %s", what);
	json_decref(j);
	free(s);
}

static void test_limits(void)
{
	ds_error err = DS_ERROR_INIT;
	size_t len;
	char *s;
	json_t *j;

	limit("nested arrays", "a = ", "[", DS_TOML_MAX_DEPTH, "", "]", "nested deeper than 128");
	limit("nested inline tables", "a = ", "{b=", DS_TOML_MAX_DEPTH, "1", "}",
	      "nested deeper than 128");
	limit("dotted key parts after the first", "a", ".a", DS_TOML_MAX_DEPTH - 1, " = 1", "",
	      "dotted key of more than 128 parts");
	limit("header parts after the first, then an array", "[a", ".a", DS_TOML_MAX_DEPTH - 2,
	      "]\nx = []", "", "nested deeper than 128");
	/* [[a]] [[a.a]] [[a.a.a]] ...: each array of tables costs two levels, array and element */
	{
		ds_buf doc = DS_BUF_INIT;
		int k, i;

		ds_buf_init(&doc, 0);
		for (k = 1; k <= DS_TOML_MAX_DEPTH / 2 + 1; k++) {
			ds_buf_adds(&doc, "[[a");
			for (i = 1; i < k; i++)
				ds_buf_adds(&doc, ".a");
			ds_buf_adds(&doc, "]]\n");
			if (k == DS_TOML_MAX_DEPTH / 2) {
				j = parse(doc.data, doc.len, &err);
				ok_err(j != NULL, &err, "64 nested arrays of tables are allowed");
				json_decref(j);
			}
		}
		j = parse(doc.data, doc.len, &err);
		ok(j == NULL && err.code == DS_ENOMEM, "65 nested arrays of tables are refused");
		has_str(err.msg, "line 65 column ", "  on the 65th header");
		ds_buf_release(&doc);
	}

	/* the unbalanced ones close early: they must fail on depth, not on syntax */
	s = repeat("a = ", "[", 100000, "", &len);
	j = parse(s, len, &err);
	ok(j == NULL && err.code == DS_ENOMEM, "100000 '[' fail on depth (no stack overflow)");
	is_str(err.msg,
	       "'t.toml' line 1 column 133: tables and arrays nested deeper than 128 levels",
	       "  at the 129th bracket");
	free(s);

	s = repeat("\"", "k", DS_TOML_MAX_KEY, "\" = 1", &len);
	j = parse(s, len, &err);
	ok_err(j != NULL, &err, "a key of %d bytes is allowed", DS_TOML_MAX_KEY);
	json_decref(j);
	free(s);
	s = repeat("\"", "k", DS_TOML_MAX_KEY + 1, "\" = 1", &len);
	j = parse(s, len, &err);
	ok(j == NULL && err.code == DS_ENOMEM, "a key of %d bytes is refused", DS_TOML_MAX_KEY + 1);
	is_str(err.msg, "'t.toml' line 1 column 1: key longer than 4096 bytes", "  message");
	free(s);

	s = repeat("a = 0.", "0", DS_TOML_MAX_NUMBER - 2, "", &len);
	j = parse(s, len, &err);
	ok_err(j != NULL, &err, "a number of %d characters is allowed", DS_TOML_MAX_NUMBER);
	json_decref(j);
	free(s);
	s = repeat("a = 0.", "0", DS_TOML_MAX_NUMBER - 1, "", &len);
	j = parse(s, len, &err);
	ok(j == NULL && err.code == DS_ENOMEM, "a number of %d characters is refused",
	   DS_TOML_MAX_NUMBER + 1);
	free(s);

	/* the root table and the array count too */
	s = repeat("a = [", "true,", DS_TOML_MAX_NODES - 2, "]", &len);
	j = parse(s, len, &err);
	ok_err(j != NULL, &err, "%d values are allowed", DS_TOML_MAX_NODES);
	json_decref(j);
	free(s);
	s = repeat("a = [", "true,", DS_TOML_MAX_NODES - 1, "]", &len);
	j = parse(s, len, &err);
	ok(j == NULL && err.code == DS_ENOMEM, "%d values are refused", DS_TOML_MAX_NODES + 1);
	is_str(err.msg, "'t.toml' line 1 column 2499996: more than 500000 values", "  message");
	free(s);
	/* a date is an object and two strings: three values */
	s = repeat("a = [", "00:00:00,", (DS_TOML_MAX_NODES - 2) / 3, "]", &len);
	j = parse(s, len, &err);
	ok_err(j != NULL, &err, "%d dates are allowed", (DS_TOML_MAX_NODES - 2) / 3);
	json_decref(j);
	free(s);
	s = repeat("a = [", "00:00:00,", (DS_TOML_MAX_NODES - 2) / 3 + 1, "]", &len);
	j = parse(s, len, &err);
	ok(j == NULL && err.code == DS_ENOMEM, "%d dates are refused",
	   (DS_TOML_MAX_NODES - 2) / 3 + 1);
	free(s);

	s = repeat("", "\n", DS_TOML_MAX_SIZE, "", &len);
	j = parse(s, len, &err);
	ok_err(j != NULL, &err, "a document of 16 MiB is allowed");
	json_decref(j);
	free(s);
	s = repeat("", "\n", DS_TOML_MAX_SIZE + 1, "", &len);
	j = parse(s, len, &err);
	ok(j == NULL && err.code == DS_ENOMEM, "a document of 16 MiB + 1 byte is refused");
	is_str(err.msg, "'t.toml' is larger than the TOML limit of 16 MiB", "  message");
	free(s);
}

static void test_file(void)
{
	char *dir = tu_tmpdir("toml"), *path = tu_fmt("%s/pyproject.toml", dir);
	ds_error err = DS_ERROR_INIT;
	json_t *j = NULL;

	tu_writes(path, "[project]\nname = \"demo\"\nname = \"again\"\n");
	ok(ds_toml_parse_file(&j, path, &err) == -1 && j == NULL, "a bad file is refused");
	has_str(err.msg, "pyproject.toml' line 3 column 1: duplicate key 'name'",
		"  the message names the file");
	tu_writes(path, "[project]\nname = \"demo\"\n");
	ok_err(ds_toml_parse_file(&j, path, &err) == 0, &err, "a good file parses");
	is_str(json_string_value(json_object_get(json_object_get(j, "project"), "name")), "demo",
	       "  with its value");
	json_decref(j);
	j = NULL;
	unlink(path);
	ok(ds_toml_parse_file(&j, path, &err) == -1 && err.code == DS_ENOENT && j == NULL,
	   "a missing file is DS_ENOENT");
	rmdir(dir);
	free(path);
	free(dir);
}

int main(void)
{
	test_cases();
	test_messages();
	test_redefinition();
	test_truncated();
	test_positions();
	test_mapping();
	test_documents();
	test_prefixes();
	test_limits();
	test_file();
	return done_testing();
}
