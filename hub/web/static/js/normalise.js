// Normalisation of personal values in the browser: the rules of hub/pseudonyms/normalise.py, byte
// for byte, so that a value pseudonymised here gives the pseudonym the hub's own normalisation
// gives. Every rule, and every error message ("<kind>: <problem>", never the value), is the
// Python one:
//
//   email              stripped, NFC, lower-cased as a whole (+tag kept), an internationalised
//                      domain in its IDNA 2003 ASCII form (xn--...);
//   phone              E.164 (+14155552671); numbers without + read in defaultRegion (ISO 3166
//                      alpha-2); unparseable or invalid numbers refused;
//   payment_instrument a card number as digits (12-19, Luhn-valid) or an IBAN upper-case without
//                      spaces (mod-97 valid);
//   name, address      NFKC, case-folded, apostrophes dropped, other punctuation a space,
//                      whitespace collapsed;
//   provider_account   stripped (providerAccountValue scopes it by the provider first).
//
// A browser has its own Unicode data, of its own version, while Python's str methods, re and
// unicodedata have Python's. So the Python behaviour is taken from tables generated from Python
// (the block below, tools/gen_normalise_tables.py): case mappings (str.lower, str.upper,
// str.casefold, with Python's final-sigma context), categories, Python's whitespace and \d \w,
// digit values, case-insensitive matching, and the IDNA 2003 tables (stringprep, and where its
// Unicode 3.2 normalisation differs). Only NFC/NFKC is the browser's, and only for characters
// Python has assigned (stable across versions); characters Python has not assigned are passed
// through as Python does. Phone numbers: Python's phonenumbers reading of the text (extraction,
// extensions, vanity letters, RFC 3966) is ported here; the metadata work (country code, national
// prefix, validity) is done by the vendored libphonenumber-js (../vendor/libphonenumber.js) with
// the same libphonenumber metadata version.
//
// Refused here although Python accepts them (never a different pseudonym): values with an
// unpaired UTF-16 surrogate (no UTF-8 form); an e-mail domain label holding a character newer
// than Unicode 3.2 that has a decomposition (IDNA 2003 leaves it, a browser's NFKC would not);
// non-ASCII values in a browser whose Unicode data is older than Python's.
//
// Works in a browser (window.AbusehubNormalise; the global libphonenumber loaded before a phone
// number is normalised) and under node (module.exports; it evaluates the vendored bundle itself).
(function (root) {
  "use strict";
  // BEGIN GENERATED TABLES (tools/gen_normalise_tables.py): do not edit by hand.
  // Python 3.11, Unicode 14.0.0.
  const TABLES = {
    unicode: "14.0.0",
    probes: [["\ud801\udf81", "\u02d0"], ["a\u0316\u1dfa", "a\u1dfa\u0316"]],
    kinds: ["email", "phone", "payment_instrument", "name", "address", "provider_account"],
    assigned: "0:oo,2:6,4:7,1:1,1:k,1:b1,1:12,2:1e,2:3,1:1j,8:r,4:6,b:7i,1:1o,2:2t,e:1n,2:1d,2:f,1:s,2:1,1:b,5:v,1:2,6:6k,1:8,2:2,2:m,1:7,1:1,3:4,2:9,2:2,2:4,8:1,4:2,1:5,2:p,2:3,1:6,4:2,2:m,1:7,1:2,1:2,1:2,2:1,1:5,4:2,2:3,3:1,7:4,1:1,7:h,a:3,1:9,1:3,1:m,1:7,1:2,1:5,2:a,1:3,1:3,2:1,f:4,2:c,7:7,1:3,1:8,2:2,2:m,1:7,1:2,1:5,2:9,2:2,2:3,7:3,4:2,1:5,2:i,a:2,1:6,3:3,1:4,3:2,1:1,1:2,3:2,3:3,3:c,4:5,3:3,1:4,2:1,6:1,e:l,5:d,1:3,1:n,1:g,2:9,1:3,1:4,7:2,1:3,2:1,2:4,2:a,7:m,1:3,1:n,1:a,1:5,2:9,1:3,1:4,7:2,6:2,1:4,2:a,1:2,d:d,1:3,1:1f,1:3,1:6,4:g,2:q,1:3,1:i,3:o,1:9,1:1,2:7,3:1,4:6,1:1,1:8,6:a,2:3,c:1m,4:t,11:2,1:1,1:5,1:o,1:1,1:n,2:5,1:1,1:6,2:a,2:4,w:20,1:10,4:13,1:10,1:f,1:d,11:5i,1:1,5:1,2:ah,1:4,2:7,1:1,1:4,2:15,1:4,2:x,1:4,2:7,1:1,1:4,2:f,1:1l,1:4,2:1v,2:w,3:q,6:2e,2:6,2:il,3:2h,7:m,9:o,9:k,c:d,1:3,1:2,c:2m,2:a,6:a,6:q,6:2h,7:17,5:1y,a:v,1:c,4:c,4:1,3:16,2:5,b:18,4:q,6:b,3:1q,2:1t,1:t,2:b,6:a,6:e,2:v,1d:25,3:1b,1:38,8:1o,3:f,3:1o,7:17,2:b,8:17,5:eu,2:6,2:12,2:6,2:8,1:1,1:1,1:1,1:v,2:1h,1:f,1:e,2:6,1:j,2:3,1:9,1:2t,1:c,2:r,1:d,3:x,f:x,f:3w,4:if,p:b,l:1ec,2:w,1:9p,5:19,1:1,5:1,2:1k,7:2,e:o,9:7,1:7,1:7,1:7,1:7,1:7,1:7,1:7,1:3i,y:q,1:2h,c:5y,q:c,4:1s,1:2e,2:2v,5:17,1:2m,1:2c,c:1b,1:mlp,3:1j,9:9o,k:54,8:5n,5:2,1:1,1:5,o:1n,3:a,6:1k,8:1y,8:c,6:38,b:u,3:26,1:b,4:x,1:1j,9:e,2:a,2:2v,o:s,a:6,2:6,2:6,9:7,1:7,1:1o,4:3i,2:a,6:8mc,c:n,4:1d,1l0:57y,2:2y,12:7,c:5,5:q,1:5,1:1,1:2,1:2,1:3h,g:cd,2:1i,7:1,w:16,6:1f,1:j,1:4,4:5,1:3r,2:1,1:5a,3:6,2:6,2:6,2:3,3:7,1:7,a:5,2:c,1:q,1:j,1:2,1:f,2:e,y:3f,5:3,4:19,3:2g,1:d,3:1,1b:1a,3m:t,3:1d,f:s,4:10,9:u,5:17,5:u,1:11,4:e,16:4e,2:a,6:10,4:10,4:14,8:1g,b:c,1:f,1:7,1:2,1:b,1:f,1:7,1:2,1v:8n,9:m,a:8,o:6,1:16,1:9,1x:6,2:1,1:18,1:2,3:1,2:n,1:20,8:9,1c:j,1:2,5:x,3:r,5:1,1s:1k,4:k,2:1e,1:2,5:8,1:3,1:t,2:3,4:a,7:9,7:1s,w:13,4:c,9:1i,3:t,2:r,5:q,7:4,c:7,28:21,1j:1f,d:1f,7:1a,8:a,86:v,1:16,1:3,2:2,26:14,8:16,m:q,12:s,k:n,9:26,4:10,9:1w,a:1,2:p,7:a,6:1h,1:i,8:13,9:2o,1:k,b:i,1:18,1t:7,1:1,1:4,1:f,1:b,6:1n,5:a,6:4,1:8,2:2,2:m,1:7,1:2,1:5,1:a,2:2,2:3,2:1,6:1,5:7,2:7,3:5,3v:2k,1:5,u:20,8:a,4m:1i,2:12,y:1x,b:a,6:d,j:1m,6:a,1i:r,2:f,4:n,55:1o,2s:2b,c:8,2:1,2:8,1:2,1:u,1:2,2:c,9:a,1y:8,2:1a,2:b,r:20,8:2b,d:21,7b:9,1:19,1:e,a:t,3:w,2:m,1:e,21:7,1:2,1:18,3:1,1:2,1:9,8:a,6:6,1:2,1:11,1:2,1:6,7:a,8m:p,53:1,f:1e,d:pn,2u:33,1:5,b:5g,218:2r,d:tr,1:9,347:g7,6nt:ft,7:v,1:a,4:29,1:a,6:u,2:6,a:1y,a:a,1:7,1:l,5:j,j4:2j,2t:23,4:1l,7:h,1s:5,b:2,e:4qg,8:ye,16:9,6w7:4,1:7,1:2,1:83,19:3,h:4,8:b0,1s4:2z,5:d,3:9,7:a,2:8,3mk:1a,2:n,9:38,1o:6u,a:13,2:5e,l:1y,4a:k,c:2f,9:p,3r:2d,1:1z,1:2,2:1,2:2,2:4,1:c,1:1,1:7,1:1t,1:4,2:8,1:7,1:s,1:4,1:5,1:1,3:7,1:9g,2:84,2:ji,f:5,1:f,uo:v,69:7,1:h,2:7,1:2,1:5,5x:19,3:e,2:a,4:2,8w:v,h:1m,5:1,yo:7,1:4,1:2,1:f,1:5h,2:g,15:24,4:a,4:2,lt:1w,24:1p,5e:4,1:r,1:2,1:1,2:1,1:a,1:4,1:1,1:1,6:1,4:1,1:1,1:1,1:3,1:2,1:1,2:1,1:1,1:1,1:1,1:1,1:2,1:1,2:4,1:7,1:4,1:4,1:1,1:a,1:h,5:3,1:5,1:h,1g:2,7i:18,4:2s,c:f,2:f,1:f,1:11,a:4u,1k:t,d:18,4:9,7:2,e:6,4a:rc,5:g,3:d,3:38,c:2h,7:c,4:1,f:c,4:1k,8:a,6:14,8:u,2:2,26:9g,c:e,2:5,3:5,3:7,9:t,3:b,5:6,a:a,6:8,8:7,9:43,1:1j,11:a,sm:wyo,w:37d,7:66,2:4g2,e:5rl,2e7:f2,15u:3t7,fcfq:1,u:2o,3k:6o,1e6o:1eke,2:1eke",
    punct: "x:3,1:6,1:4,a:2,3:2,q:3,1:1,r:1,1:1,z:1,5:1,3:1,a:2,3:1,3:1,ji:1,8:1,cy:6,15:2,1f:1,1:1,2:1,2:1,18:2,k:2,1:2,d:1,1:3,22:4,2u:1,17:e,6h:3,1i:f,v:1,79:2,a:1,3w:1,3c:1,3d:1,au:1,c:1,a7:1,2i:1,a:2,4o:f,1:1,11:4,1z:1,22:5,4:2,33:6,4r:1,h0:9,47:1,h9:1,18:2,26:3,1z:2,4d:3,1:3,11:b,8p:2,60:2,3k:7,1:6,4s:7,s:2,3h:4,1n:5,1q:2,1s:8,b:1,n0:o,8:k,1:d,1:c,u:2,e:2,hl:4,t:2,u5:e,27:2,v:a,b7:m,1r:4,w:2,l7:4,1:2,34:1,3z:1b,1:w,2:c,bn:3,4:a,2:c,g:1,c:1,2q:1,2i:1,mwy:2,7h:3,2r:1,a:1,37:6,ak:4,2e:2,14:3,1:1,1d:2,1b:1,2p:d,g:2,3g:4,3i:2,g:2,6x:1,g2a:2,5s:a,m:z,1:e,1:1,4:1,1:2,45:3,1:6,1:4,a:2,3:2,q:3,1:1,r:1,1:1,1:7,be:3,ik:1,1c:1,bi:1,kn:1,5j:1,v:1,7k:9,12:1,34:7,1u:7,2h:4,ls:1,4n:5,18:4,59:7,31:2,1:4,3i:4,1c:2,27:4,4:1,d:1,1:3,2g:6,2z:1,bl:5,a:2,1:1,2w:1,6y:n,2x:3,s:d,24:1,3m:3,70:1,7c:3,4b:1,2k:8,2b:3,1:5,bi:5,16:2,hx:2,7a:1,vk:5,29o:2,bjv:2,3p:1,1t:5,8:1,nm:4,93:1,f5o:1,5wn:5,2xe:2",
    space: "9:5,e:5,2s:1,q:1,4bj:1,1vj:b,t:2,5:1,1b:1,334:1",
    alpha: "1t:q,6:q,1b:1,a:1,4:1,5:n,1:v,1:cq,4:c,e:5,7:1,1:1,3l:5,1:2,2:4,1:1,6:1,1:3,1:1,1:k,1:2b,1:3v,8:4m,1:12,2:1,6:15,1z:r,4:4,19:17,z:2,1:2r,1:1,f:2,7:2,a:3,2:1,g:1,1:u,t:2h,b:1,o:x,9:2,4:1,5:m,4:1,9:1,3:1,n:p,7:b,5:o,1:6,h:16,1m:1i,3:1,i:1,7:a,f:g,4:8,2:2,2:m,1:7,1:1,3:4,3:1,g:1,d:2,1:3,e:2,a:1,8:6,4:2,2:m,1:7,1:2,1:2,1:2,v:4,1:1,j:3,g:9,1:3,1:m,1:7,1:2,1:5,3:1,i:1,f:2,n:1,b:8,2:2,2:m,1:7,1:2,1:5,3:1,u:2,1:3,f:1,h:1,1:6,3:3,1:4,3:2,1:1,1:2,3:2,3:3,3:c,m:1,1g:8,1:3,1:n,1:g,3:1,q:3,2:1,2:2,u:1,4:8,1:3,1:n,1:a,1:5,3:1,v:2,1:2,f:2,h:9,1:3,1:15,2:1,g:1,5:3,8:3,o:6,5:i,3:o,1:9,1:1,2:7,1m:1c,1:2,c:7,1m:2,1:1,1:5,1:o,1:1,1:a,1:2,9:1,2:5,1:1,l:4,w:1,1r:8,1:10,r:5,37:17,k:1,g:6,4:4,3:1,3:2,7:3,4:d,c:1,h:12,1:1,5:1,2:17,1:99,1:4,2:7,1:1,1:4,2:15,1:4,2:x,1:4,2:7,1:1,1:4,2:f,1:1l,1:4,2:1v,11:g,g:2e,2:6,3:h8,2:h,1:q,5:23,6:8,7:i,d:j,e:i,e:d,1:3,f:1g,z:1,4:1,1v:2h,7:5,2:y,1:1,5:1y,a:v,1d:u,2:5,b:18,4:q,1i:n,9:1h,2a:1,2l:1b,h:8,1i:u,d:2,a:18,q:10,15:3,a:10,2:9,7:17,2:3,15:4,1:6,1:2,3:1,5:5c,1s:7q,2:6,2:12,2:6,2:8,1:1,1:1,1:1,1:v,2:1h,1:7,1:1,3:3,1:7,3:4,2:6,4:d,5:3,1:7,38:1,d:1,g:d,2t:1,4:1,2:a,1:1,3:5,6:1,1:1,1:1,1:4,1:b,2:4,5:5,4:1,1g:2,22j:6d,6:4,3:2,c:12,1:1,5:1,2:1k,7:1,g:n,9:7,1:7,1:7,1:7,1:7,1:7,1:7,1:7,28:1,d1:2,16:5,5:2,4:2e,6:3,1:2i,1:4,5:17,1:2m,h:w,1c:g,e8:534,1s:h3h,1v:1a,2:7h,3:g,a:2,k:1b,g:v,2:1y,1d:9,2:2v,2:1s,5:2,1:1,1:5,o:g,1:3,1:4,1:n,t:1g,e:1e,1q:6,3:1,1:2,b:s,a:n,p:t,7:1b,s:1,g:5,1:a,a:5,1:15,n:3,1:8,k:n,3:1,3:1e,1:1,3:2,2:5,2:1,1:1,o:3,2:b,7:3,c:6,2:6,2:6,9:7,1:7,1:17,1:e,6:37,t:8mc,c:n,4:1d,6is:a6,2:2y,12:7,c:5,5:1,1:a,1:d,1:5,1:1,1:2,1:2,1:30,x:a3,i:1s,2:1i,14:c,38:5,1:3r,10:q,6:q,b:2h,3:6,2:6,2:6,2:3,z:c,1:q,1:j,1:2,1:f,2:e,y:3f,at:t,3:1d,1b:w,d:k,1:8,6:12,a:u,2:10,4:8,1c:4e,i:10,4:10,4:14,8:1g,c:b,1:f,1:7,1:2,1:b,1:f,1:7,1:2,1v:8n,9:m,a:8,o:6,1:16,1:9,1x:6,2:1,1:18,1:2,3:1,2:n,a:n,9:v,1t:j,1:2,a:m,a:q,1y:1k,6:2,1s:1,f:4,1:3,1:t,16:t,3:t,z:8,1:s,r:1i,a:m,a:j,d:i,32:21,1j:1f,d:1f,d:10,9o:16,6:2,26:t,a:1,8:m,16:i,1a:l,r:n,c:1h,1l:2,2:1,d:19,w:p,q:10,t:1,2:1,8:z,3:1,c:1c,e:4,l:1,1:1,z:i,1:p,2c:7,1:1,1:4,1:f,1:a,7:1b,12:8,2:2,2:m,1:7,1:2,1:5,3:1,i:1,c:5,4e:1h,i:4,k:3,u:1c,k:2,1:1,54:1b,15:4,10:1c,k:1,1n:17,d:1,1z:r,11:7,55:18,38:1s,v:8,2:1,2:8,1:2,1:o,f:1,1:1,2m:8,2:13,g:1,1:1,s:1,a:14,7:1,l:1,b:1a,j:1,i:21,7b:9,1:11,h:1,1d:u,34:7,1:2,1:12,l:1,p:6,1:2,1:w,e:1,93:j,59:1,27:pm,6e:5g,218:2p,f:tr,34h:g7,6nt:ft,7:v,h:27,h:u,i:1c,g:4,v:l,5:j,j4:1s,3k:23,5:1,1u:d,1s:2,1:1,s:4qg,8:ye,16:9,6w7:4,1:7,1:2,1:83,19:3,h:4,8:b0,1s4:2z,5:d,3:9,7:a,4me:2d,1:1z,1:2,2:1,2:2,2:4,1:c,1:1,1:7,1:1t,1:4,2:8,1:7,1:s,1:4,1:5,1:1,3:7,1:9g,2:p,1:p,1:v,1:p,1:v,1:p,1:v,1:p,1:v,1:p,1:8,1f8:v,dd:19,a:7,g:1,8x:u,i:18,z8:7,1:4,1:2,1:f,1:5h,1n:1w,7:1,xg:4,1:r,1:2,1:1,2:1,1:a,1:4,1:1,1:1,6:1,4:1,1:1,1:1,1:3,1:2,1:1,2:1,1:1,1:1,1:1,1:1,1:2,1:1,2:4,1:7,1:4,1:4,1:1,1:a,1:h,5:3,1:5,1:h,3es:wyo,w:37d,7:66,2:4g2,e:5rl,2e7:f2,15u:3t7",
    isdigit: "1c:a,3c:2,5:1,146:a,3q:a,5i:a,bg:a,3a:a,3a:a,3a:a,3a:a,3a:a,3a:a,3a:a,3a:a,3a:a,2o:a,3a:a,1y:a,7q:a,1y:a,jz:9,vi:a,12:a,8c:a,3k:b,4l:a,6:a,52:a,2e:a,3q:a,6:a,t2:1,3:6,6:a,ra:9,b:9,b:9,2h:1,a:9,1:1,hi:9,1:9,1:9,ozx:a,iu:a,12:a,5i:a,m:a,2e:a,ba:a,geu:a,13a:a,13q:4,ks:a,86:9,dl:9,b:a,3k:a,1o:a,40:a,7q:a,9i:a,3a:a,ae:a,2u:a,2u:a,bq:a,2u:a,l2:a,6u:a,1y:a,f5i:a,2e:a,3q:a,lf8:1e,1ts:a,bq:a,192:a,1ie:b,25h:a",
    decimal: "1c:a,17q:a,3q:a,5i:a,bg:a,3a:a,3a:a,3a:a,3a:a,3a:a,3a:a,3a:a,3a:a,3a:a,2o:a,3a:a,1y:a,7q:a,1y:a,1fq:a,12:a,8c:a,3k:a,4m:a,6:a,52:a,2e:a,3q:a,6:a,r7q:a,iu:a,12:a,5i:a,m:a,2e:a,ba:a,geu:a,13a:a,1om:a,mk:a,3k:a,1o:a,40:a,7q:a,9i:a,3a:a,ae:a,2u:a,2u:a,bq:a,2u:a,l2:a,6u:a,1y:a,f5i:a,2e:a,3q:a,lf8:1e,1ts:a,bq:a,192:a,3o6:a",
    word: "1c:a,7:q,4:1,1:q,1b:1,7:2,1:1,3:2,1:3,1:n,1:v,1:cq,4:c,e:5,7:1,1:1,3l:5,1:2,2:4,1:1,6:1,1:3,1:1,1:k,1:2b,1:3v,8:4m,1:12,2:1,6:15,1z:r,4:4,19:17,l:a,4:2,1:2r,1:1,f:2,7:f,2:1,g:1,1:u,t:2h,b:1,e:17,9:2,4:1,5:m,4:1,9:1,3:1,n:p,7:b,5:o,1:6,h:16,1m:1i,3:1,i:1,7:a,4:a,1:g,4:8,2:2,2:m,1:7,1:1,3:4,3:1,g:1,d:2,1:3,4:c,2:6,2:1,8:6,4:2,2:m,1:7,1:2,1:2,1:2,v:4,1:1,7:a,2:3,g:9,1:3,1:m,1:7,1:2,1:5,3:1,i:1,f:2,4:a,9:1,b:8,2:2,2:m,1:7,1:2,1:5,3:1,u:2,1:3,4:a,1:7,b:1,1:6,3:3,1:4,3:2,1:1,1:2,3:2,3:3,3:c,m:1,l:d,i:8,1:3,1:n,1:g,3:1,q:3,2:1,2:2,4:a,8:7,1:1,4:8,1:3,1:n,1:a,1:5,3:1,v:2,1:2,4:a,1:2,h:9,1:3,1:15,2:1,g:1,5:3,1:a,4:j,1:6,5:i,3:o,1:9,1:1,2:7,v:a,h:1c,1:2,c:7,9:a,13:2,1:1,1:5,1:o,1:1,1:a,1:2,9:1,2:5,1:1,9:a,2:4,w:1,v:k,c:8,1:10,r:5,37:17,k:b,6:6,4:4,3:1,3:2,7:3,4:d,c:1,1:a,6:12,1:1,5:1,2:17,1:99,1:4,2:7,1:1,1:4,2:15,1:4,2:x,1:4,2:7,1:1,1:4,2:f,1:1l,1:4,2:1v,e:k,3:g,g:2e,2:6,3:h8,2:h,1:q,5:23,3:b,7:i,d:j,e:i,e:d,1:3,f:1g,z:1,4:1,3:a,6:a,m:a,6:2h,7:5,2:y,1:1,5:1y,a:v,13:14,2:5,b:18,4:q,6:b,11:n,9:1h,17:a,6:a,d:1,2l:1b,h:8,3:a,15:u,d:1k,q:10,s:a,3:1d,2:9,7:17,2:3,15:4,1:6,1:2,3:1,5:5c,1s:7q,2:6,2:12,2:6,2:8,1:1,1:1,1:1,1:v,2:1h,1:7,1:1,3:3,1:7,3:4,2:6,4:d,5:3,1:7,37:2,2:6,5:b,6:d,2t:1,4:1,2:a,1:1,3:5,6:1,1:1,1:1,1:4,1:b,2:4,5:5,4:1,1:1m,k6:1o,26:m,hi:u,vg:6d,6:4,3:2,9:1,2:12,1:1,5:1,2:1k,7:1,g:n,9:7,1:7,1:7,1:7,1:7,1:7,1:7,1:7,28:1,d1:3,p:9,7:5,2:5,4:2e,6:3,1:2i,1:4,5:17,1:2m,3:4,a:w,1c:g,w:a,u:8,1:f,w:a,13:f,8w:534,1s:h3h,1v:1a,2:7h,3:s,k:1b,g:v,2:28,13:9,2:2v,2:1s,5:2,1:1,1:5,o:g,1:3,1:4,1:n,d:6,a:1g,e:1e,s:a,o:6,3:1,1:2,1:12,a:n,p:t,7:1b,s:b,6:5,1:p,1:15,n:3,1:8,4:a,6:n,3:1,3:1e,1:1,3:2,2:5,2:1,1:1,o:3,2:b,7:3,c:6,2:6,2:6,9:7,1:7,1:17,1:e,6:37,d:a,6:8mc,c:n,4:1d,6is:a6,2:2y,12:7,c:5,5:1,1:a,1:d,1:5,1:1,1:2,1:2,1:30,x:a3,i:1s,2:1i,14:c,38:5,1:3r,j:a,7:q,6:q,b:2h,3:6,2:6,2:6,2:3,z:c,1:q,1:j,1:2,1:f,2:e,y:3f,c:19,c:1l,h:2,6s:t,3:1d,g:r,4:10,9:u,5:12,a:u,2:10,4:8,1:5,16:4e,2:a,6:10,4:10,4:14,8:1g,c:b,1:f,1:7,1:2,1:b,1:f,1:7,1:2,1v:8n,9:m,a:8,o:6,1:16,1:9,1x:6,2:1,1:18,1:2,3:1,2:n,2:v,2:12,8:9,1c:j,1:2,5:x,4:q,1y:1k,4:k,2:1b,f:4,1:3,1:t,a:9,n:v,1:w,w:8,1:s,6:5,g:1i,a:m,2:r,5:q,n:7,28:21,1j:1f,d:1f,7:16,c:a,86:v,1:16,6:2,26:14,8:m,b:4,r:i,1a:s,k:n,c:1h,q:u,1:2,2:1,d:19,w:p,7:a,9:10,f:a,4:1,2:1,8:z,3:1,c:1c,e:4,b:b,1:1,4:k,b:i,1:p,2c:7,1:1,1:4,1:f,1:a,7:1b,h:a,b:8,2:2,2:m,1:7,1:2,1:5,3:1,i:1,c:5,4e:1h,i:4,5:a,5:3,u:1c,k:2,1:1,8:a,4m:1b,15:4,10:1c,k:1,b:a,12:17,d:1,7:a,1i:r,l:c,4:7,55:18,38:2b,c:8,2:1,2:8,1:2,1:o,f:1,1:1,e:a,1y:8,2:13,g:1,1:1,s:1,a:14,7:1,l:1,b:1a,j:1,i:21,7b:9,1:11,h:1,f:t,5:u,34:7,1:2,1:12,l:1,9:a,6:6,1:2,1:w,e:1,7:a,8m:j,59:1,f:l,17:pm,2u:33,h:5g,218:2p,f:tr,34h:g7,6nt:ft,7:v,1:a,6:27,1:a,6:u,i:1c,g:4,c:a,1:7,1:l,5:j,j4:2f,2x:23,5:1,1u:d,1s:2,1:1,s:4qg,8:ye,16:9,6w7:4,1:7,1:2,1:83,19:3,h:4,8:b0,1s4:2z,5:d,3:9,7:a,4ee:k,30:p,3r:2d,1:1z,1:2,2:1,2:2,2:4,1:c,1:1,1:7,1:1t,1:4,2:8,1:7,1:s,1:4,1:5,1:1,3:7,1:9g,2:p,1:p,1:v,1:p,1:v,1:p,1:v,1:p,1:v,1:p,1:8,2:1e,1ds:v,dd:19,a:7,2:a,4:1,8x:u,i:18,4:a,yu:7,1:4,1:2,1:f,1:5h,2:9,1c:1w,7:1,4:a,lz:1n,1:3,1:4,24:19,1:f,5e:4,1:r,1:2,1:1,2:1,1:a,1:4,1:1,1:1,6:1,4:1,1:1,1:1,1:3,1:2,1:1,2:1,1:1,1:1,1:1,1:1,1:2,1:1,2:4,1:7,1:4,1:4,1:1,1:a,1:h,5:3,1:5,1:h,g4:d,25f:a,sm:wyo,w:37d,7:66,2:4g2,e:5rl,2e7:f2,15u:3t7",
    digitValue: "1c:a:0,3c:2:2,5:1:1,146:a:0,3q:a:0,5i:a:0,bg:a:0,3a:a:0,3a:a:0,3a:a:0,3a:a:0,3a:a:0,3a:a:0,3a:a:0,3a:a:0,3a:a:0,2o:a:0,3a:a:0,1y:a:0,7q:a:0,1y:a:0,jz:9:1,vi:a:0,12:a:0,8c:a:0,3k:a:0,0:1:1,4l:a:0,6:a:0,52:a:0,2e:a:0,3q:a:0,6:a:0,t2:1:0,3:6:4,6:a:0,ra:9:1,b:9:1,b:9:1,2h:1:0,a:9:1,1:1:0,hi:9:1,1:9:1,1:9:1,ozx:a:0,iu:a:0,12:a:0,5i:a:0,m:a:0,2e:a:0,ba:a:0,geu:a:0,13a:a:0,13q:4:1,ks:a:0,86:9:1,dl:9:1,b:a:0,3k:a:0,1o:a:0,40:a:0,7q:a:0,9i:a:0,3a:a:0,ae:a:0,2u:a:0,2u:a:0,bq:a:0,2u:a:0,l2:a:0,6u:a:0,1y:a:0,f5i:a:0,2e:a:0,3q:a:0,lf8:a:0,0:a:0,0:a:0,0:a:0,0:a:0,1ts:a:0,bq:a:0,192:a:0,1ie:1:0,0:a:0,25h:a:0",
    caseIgnorable: "13:1,6:1,b:1,z:1,1:1,1z:1,4:1,1:1,4:1,2:2,dz:5c,4:2,4:1,9:2,1:1,6z:7,5r:1,5:1,1d:19,1:1,1:2,1:2,1:1,18:1,b:6,a:b,1:1,z:1,a:l,g:1,2t:8,1:a,1:4,x:1,1:1,u:r,2j:b,1m:b,4:1,2:1,o:o,17:3,18:1,7:2,6:8,15:1m,1j:1,1:1,4:8,4:1,3:7,a:2,d:1,f:1,1m:1,4:4,8:1,k:2,q:1,2:2,1l:1,4:2,4:2,2:3,3:1,u:2,3:1,b:2,1l:1,4:5,1:2,4:1,k:2,m:6,1:1,1m:1,2:1,1:4,8:1,7:2,b:2,u:1,1p:1,c:1,1e:1,3:1,1j:1,1:3,5:3,1:4,7:2,b:2,t:1,1m:1,2:1,6:1,5:2,k:2,s:2,1l:2,4:4,8:1,k:2,t:1,20:1,7:3,1:1,2i:1,2:7,b:9,2q:1,2:9,9:1,1:6,22:2,r:1,1:1,1:1,1j:e,1:5,1:2,5:b,1:10,9:1,2u:4,1:6,1:2,2:2,p:2,4:3,g:4,d:1,2:2,6:1,f:1,2m:1,gw:3,qa:3,t:2,u:2,u:2,1s:2,1:7,8:1,2:b,3:1,5:1,19:5,1f:1,1t:2,y:1,3a:3,4:2,9:1,6:3,63:2,2:1,1m:1,1:7,1:1,1:1,2:8,6:a,2:1,13:1,8:v,1d:4,1c:1,1:5,1:1,5:1,14:9,c:2,w:4,2:2,1:3,1k:1,1:2,3:1,1:3,1m:8,2:2,1s:6,2a:3,1:d,1:7,4:1,6:1,3:2,1e:1r,d:1,y:2t,cd:1,1:3,b:3,d:3,d:3,d:2,c:5,8:2,a:1,2:1,2:5,1d:5,1:a,1:1,d:1,g:d,1f:x,2a3:2,35:3,3h:1,f:1,2o:w,1b:1,d1:1,10:4,3:5,5:1,2l:6,2l:3,lxy:1,yq:6,7i:1,2q:4,1:a,1:1,s:4,28:2,e:y,26:1,n:3,2v:3,3:2,8:1,3:1,4:1,p:2,5:1,47:2,q:i,d:1,12:8,p:b,1a:3,1c:1,2:4,2:2,h:1,l:2,1u:6,2:2,2:2,c:1,8:1,z:1,b:1,1f:1,1:3,2:2,5:2,1:1,r:1,e:2,5:2,1:1,2s:5,9:3,3d:1,2:1,4:1,fn4:1,43:h,fx:g,3:1,c:g,y:1,2:1,4p:1,7:1,6:1,b:1,z:1,1:1,1b:1,19:2,1v:1,l:3,e9:1,6a:1,45:5,sl:6,1:16,1:9,g6:3,1:2,5:4,14:3,4:1,4l:2,fx:4,ar:2,49:b,1d:4,3f:1,1i:f,15:1,2:2,a:3,1d:4,2:2,2:1,4:1,a:1,1e:3,10:5,1:8,1q:1,c:2,1g:9,a:4,2:1,2n:3,2:1,1:2,6:1,4g:1,3:8,l:2,1l:2,3:1,11:7,3:5,5f:8,2:3,1:1,n:1,2c:6,1:1,4:2,1:2,6m:4,6:2,1:2,r:2,2d:8,2:1,1:2,2y:1,1:1,2:6,1:1,2t:3,2:4,1:5,77:9,1:2,74:2,1:1,4:1,40:4,2:2,4:1,w:a,14:6,2:4,8:1,9:6,2:3,1a:d,1:2,ba:7,1:6,1:1,2a:m,2:7,1:2,1:2,3e:6,3:1,1:2,1:7,1:1,20:2,3:1,1:1,9n:2,46z:9,at3:5,1n:7,9:4,sr:1,1r:h,1s:2,1:2,cnf:4,1:7,1:2,2hq:2,1:4,3mk:1a,2:n,f4:3,9:g,2:7,u:4,44:3,1iz:1j,4:1e,8:1,e:1,m:5,1:f,11s:7,1:h,2:7,1:2,1:5,79:e,a8:1,1p:4,15s:7,31:8,23z:5,gx6p:1,u:2o,3k:6o",
    cased: "1t:q,6:q,1b:1,a:1,4:1,5:n,1:v,1:5f,1:4,4:5s,1:r,5c:4,2:2,3:3,1:1,6:1,1:3,1:1,1:k,1:2b,1:3v,8:4m,1:12,9:15,26v:12,1:1,5:1,2:17,2:3,io:2e,2:6,1oi:9,7:17,2:3,1s:18,1r:d,1:y,2t:7q,2:6,2:12,2:6,2:8,1:1,1:1,1:1,1:v,2:1h,1:7,1:1,3:3,1:7,3:4,2:6,4:d,5:3,1:7,79:1,4:1,2:a,1:1,3:5,6:1,1:1,1:1,1:4,1:6,4:1,2:4,5:5,4:1,h:w,3:2,mp:1g,1ee:3g,2:2v,6:4,3:2,c:12,1:1,5:1,nwy:1a,i:s,3q:26,1:n,3:4,1:1n,5:2,1:1,1:5,r:2,3:1,mt:17,5:9,7:28,fnk:7,c:5,sp:q,6:q,x1:28,2o:10,4:10,38:b,1:f,1:7,1:2,1:b,1:f,1:7,1:2,1c3:1f,d:1f,2b1:1s,gv4:1s,k1s:2d,1:1z,1:2,2:1,2:2,2:4,1:c,1:1,1:7,1:1t,1:4,2:8,1:7,1:s,1:4,1:5,1:1,3:7,1:9g,2:p,1:p,1:v,1:p,1:v,1:p,1:v,1:p,1:v,1:p,1:8,1f8:a,1:k,1y9:1w,1kc:q,6:q,6:q",
    lower: "1t:q:1:w,5c:n:1:w,60:7:1:w,74:o:2:1,8i:3:2:1,8p:8:2:1,96:n:2:1,ag:1:1:-3d,ah:3:2:1,ap:1:1:5u,aq:2:2:1,au:1:1:5q,av:1:1:1,ax:2:1:5p,az:1:1:1,b2:1:1:27,b3:1:1:5m,b4:1:1:5n,b5:1:1:1,b7:1:1:5p,b8:1:1:5r,ba:1:1:5v,bb:1:1:5t,bc:1:1:1,bg:1:1:5v,bh:1:1:5x,bj:1:1:5y,bk:3:2:1,bq:1:1:62,br:1:1:1,bt:1:1:62,bw:1:1:1,by:1:1:62,bz:1:1:1,c1:2:1:61,c3:2:2:1,c7:1:1:63,c8:1:1:1,cc:1:1:1,ck:1:1:2,cl:1:1:1,cn:1:1:2,co:1:1:1,cq:1:1:2,cr:9:2:1,da:9:2:1,dt:1:1:2,du:2:2:1,dy:1:1:-2p,dz:1:1:-1k,e0:k:2:1,f4:1:1:-3m,f6:9:2:1,fu:1:1:8bv,fv:1:1:1,fx:1:1:-4j,fy:1:1:8bs,g1:1:1:1,g3:1:1:-5f,g4:1:1:1x,g5:1:1:1z,g6:5:2:1,og:2:2:1,om:1:1:1,ov:1:1:38,p2:1:1:12,p4:3:1:11,p8:1:1:1s,pa:2:1:1r,pd:h:1:w,pv:9:1:w,r3:1:1:8,rc:c:2:1,s4:1:1:-1o,s7:1:1:1,s9:1:1:-7,sa:1:1:1,sd:3:1:-3m,sg:g:1:28,sw:w:1:w,v4:h:2:1,wa:r:2:1,xs:1:1:f,xt:7:2:1,y8:1c:2:1,10x:12:1:1c,3a8:12:1:5ls,3bb:1:1:5ls,3bh:1:1:5ls,3vk:28:1:tzk,3xs:6:1:8,5n4:17:1:-2bk,5od:3:1:-2bk,5xc:23:2:1,61q:1:1:-5vj,61s:1c:2:1,64o:8:1:-8,654:6:1:-8,65k:8:1:-8,660:8:1:-8,66g:6:1:-8,66x:4:2:-8,67c:8:1:-8,688:8:1:-8,68o:8:1:-8,694:8:1:-8,69k:2:1:-8,69m:2:1:-22,69o:1:1:-9,6a0:4:1:-2e,6a4:1:1:-9,6ag:2:1:-8,6ai:2:1:-2s,6aw:2:1:-8,6ay:2:1:-34,6b0:1:1:-7,6bc:2:1:-3k,6be:2:1:-3i,6bg:1:1:-9,6jq:1:1:-5st,6ju:1:1:-6gv,6jv:1:1:-6di,6k2:1:1:s,6lc:g:1:g,6mb:1:1:1,792:q:1:q,8ow:1c:1:1c,8rk:1:1:1,8rm:1:1:-8af,8rn:1:1:-2xy,8ro:1:1:-89z,8rr:3:2:1,8rx:1:1:-8bg,8ry:1:1:-8al,8rz:1:1:-8bj,8s0:1:1:-8bi,8s2:1:1:1,8s5:1:1:1,8se:2:1:-8cf,8sg:1e:2:1,8vf:2:2:1,8vm:1:1:1,wu8:n:2:1,ww0:e:2:1,x0i:7:2:1,x0y:v:2:1,x2x:2:2:1,x31:1:1:-r9g,x32:5:2:1,x3f:1:1:1,x3h:1:1:-wmg,x3k:2:2:1,x3q:a:2:1,x4a:1:1:-wn8,x4b:1:1:-wnj,x4c:1:1:-wnf,x4d:1:1:-wn5,x4e:1:1:-wn8,x4g:1:1:-wlu,x4h:1:1:-wmi,x4i:1:1:-wlx,x4j:1:1:ps,x4k:8:2:1,x50:1:1:-1c,x51:1:1:-wn7,x52:1:1:-raw,x53:2:2:1,x5c:1:1:1,x5i:2:2:1,x6d:1:1:1,1ee9:q:1:w,1fcw:14:1:14,1fhs:10:1:14,1fn4:j:2:13,1fn5:5:2:13,1fnh:7:2:13,1fnx:3:2:13,1fo5:1:1:13,1h1c:1f:1:1s,1jfk:w:1:w,20cg:w:1:w,2olc:y:1:y|8g:2x.lj",
    upper: "2p:q:1:-w,51:1:1:kn,68:n:1:-w,6w:7:1:-w,73:1:1:3d,75:o:2:-1,8h:1:1:-6g,8j:3:2:-1,8q:8:2:-1,97:n:2:-1,ai:3:2:-1,an:1:1:-8c,ao:1:1:5f,ar:2:2:-1,aw:1:1:-1,b0:1:1:-1,b6:1:1:-1,b9:1:1:2p,bd:1:1:-1,be:1:1:4j,bi:1:1:3m,bl:3:2:-1,bs:1:1:-1,bx:1:1:-1,c0:1:1:-1,c4:2:2:-1,c9:1:1:-1,cd:1:1:-1,cf:1:1:1k,cl:1:1:-1,cm:1:1:-2,co:1:1:-1,cp:1:1:-2,cr:1:1:-1,cs:1:1:-2,cu:8:2:-1,d9:1:1:-27,db:9:2:-1,du:1:1:-1,dv:1:1:-2,dx:1:1:-1,e1:k:2:-1,f7:9:2:-1,fw:1:1:-1,fz:2:1:8cf,g2:1:1:-1,g7:5:2:-1,gg:1:1:8bj,gh:1:1:8bg,gi:1:1:8bi,gj:1:1:-5u,gk:1:1:-5q,gm:2:1:-5p,gp:1:1:-5m,gr:1:1:-5n,gs:1:1:wnj,gw:1:1:-5p,gx:1:1:wnf,gz:1:1:-5r,h1:1:1:wmg,h2:1:1:wn8,h4:1:1:-5t,h5:1:1:-5v,h6:1:1:wn8,h7:1:1:8af,h8:1:1:wn5,hb:1:1:-5v,hd:1:1:8al,he:1:1:-5x,hh:1:1:-5y,hp:1:1:89z,hs:1:1:-62,hu:1:1:wn7,hv:1:1:-62,hz:1:1:wmi,i0:1:1:-62,i1:1:1:-1x,i2:2:1:-61,i4:1:1:-1z,ia:1:1:-63,il:1:1:wlx,im:1:1:wlu,n9:1:1:2c,oh:2:2:-1,on:1:1:-1,or:3:1:3m,q4:1:1:-12,q5:3:1:-11,q9:h:1:-w,qq:1:1:-v,qr:9:1:-w,r0:1:1:-1s,r1:2:1:-1r,r4:1:1:-1q,r5:1:1:-1l,r9:1:1:-1b,ra:1:1:-1i,rb:1:1:-8,rd:c:2:-1,s0:1:1:-2e,s1:1:1:-28,s2:1:1:7,s3:1:1:-38,s5:1:1:-2o,s8:1:1:-1,sb:1:1:-1,ts:w:1:-w,uo:g:1:-28,v5:h:2:-1,wb:r:2:-1,xu:7:2:-1,y7:1:1:-f,y9:1c:2:-1,129:12:1:-1c,3bk:17:1:2bk,3ct:3:1:2bk,3y0:6:1:-8,5mo:1:1:-4tq,5mp:1:1:-4tp,5mq:1:1:-4tg,5mr:2:1:-4te,5mt:1:1:-4tf,5mu:1:1:-4t8,5mv:1:1:-4rp,5mw:1:1:r7m,5tl:1:1:r9g,5tp:1:1:2xy,5u6:1:1:raw,5xd:23:2:-1,61n:1:1:-1n,61t:1c:2:-1,64g:8:1:8,64w:6:1:8,65c:8:1:8,65s:8:1:8,668:6:1:8,66p:4:2:8,674:8:1:8,67k:2:1:22,67m:4:1:2e,67q:2:1:2s,67s:2:1:3k,67u:2:1:34,67w:2:1:3i,69c:2:1:8,69q:1:1:-5k5,6a8:2:1:8,6ao:2:1:8,6at:1:1:7,6ku:1:1:-s,6ls:g:1:-g,6mc:1:1:-1,79s:q:1:-q,8q8:1c:1:-1c,8rl:1:1:-1,8rp:1:1:-8bv,8rq:1:1:-8bs,8rs:3:2:-1,8s3:1:1:-1,8s6:1:1:-1,8sh:1e:2:-1,8vg:2:2:-1,8vn:1:1:-1,8w0:12:1:-5ls,8x3:1:1:-5ls,8x9:1:1:-5ls,wu9:n:2:-1,ww1:e:2:-1,x0j:7:2:-1,x0z:v:2:-1,x2y:2:2:-1,x33:5:2:-1,x3g:1:1:-1,x3l:2:2:-1,x3o:1:1:1c,x3r:a:2:-1,x4l:8:2:-1,x54:2:2:-1,x5d:1:1:-1,x5j:2:2:-1,x6e:1:1:-1,xub:1:1:-ps,xv4:28:1:-tzk,1ef5:q:1:-w,1fe0:14:1:-14,1fiw:10:1:-14,1fo7:j:2:-13,1fo8:5:2:-13,1fok:7:2:-13,1fp0:3:2:-13,1fp8:1:1:-13,1h34:1f:1:-1s,1jgg:w:1:-w,20dc:w:1:-w,2oma:y:1:-y|67:2b.2b,95:jg.26,ds:22.lo,pc:pl.lk.ld,q8:px.lk.ld,13b:111.11u,61i:20.mp,61j:2c.lk,61k:2f.lm,61l:2h.lm,61m:1t.ji,66o:px.lv,66q:px.lv.lc,66s:px.lv.ld,66u:px.lv.n6,680:64o.pl,681:64p.pl,682:64q.pl,683:64r.pl,684:64s.pl,685:64t.pl,686:64u.pl,687:64v.pl,688:64o.pl,689:64p.pl,68a:64q.pl,68b:64r.pl,68c:64s.pl,68d:64t.pl,68e:64u.pl,68f:64v.pl,68g:65k.pl,68h:65l.pl,68i:65m.pl,68j:65n.pl,68k:65o.pl,68l:65p.pl,68m:65q.pl,68n:65r.pl,68o:65k.pl,68p:65l.pl,68q:65m.pl,68r:65n.pl,68s:65o.pl,68t:65p.pl,68u:65q.pl,68v:65r.pl,68w:67c.pl,68x:67d.pl,68y:67e.pl,68z:67f.pl,690:67g.pl,691:67h.pl,692:67i.pl,693:67j.pl,694:67c.pl,695:67d.pl,696:67e.pl,697:67f.pl,698:67g.pl,699:67h.pl,69a:67i.pl,69b:67j.pl,69e:69m.pl,69f:pd.pl,69g:p2.pl,69i:pd.n6,69j:pd.n6.pl,69o:pd.pl,69u:6a2.pl,69v:pj.pl,69w:p5.pl,69y:pj.n6,69z:pj.n6.pl,6a4:pj.pl,6aa:pl.lk.lc,6ab:pl.lk.ld,6ae:pl.n6,6af:pl.lk.n6,6aq:px.lk.lc,6ar:px.lk.ld,6as:pt.lv,6au:px.n6,6av:px.lk.n6,6b6:6be.pl,6b7:q1.pl,6b8:pb.pl,6ba:q1.n6,6bb:q1.n6.pl,6bg:q1.pl,1dkw:1y.1y,1dkx:1y.21,1dky:1y.24,1dkz:1y.1y.21,1dl0:1y.1y.24,1dl1:2b.2c,1dl2:2b.2c,1dlf:11g.11i,1dlg:11g.111,1dlh:11g.117,1dli:11q.11i,1dlj:11g.119",
    casefold: "1t:q:1:w,51:1:1:lj,5c:n:1:w,60:7:1:w,74:o:2:1,8i:3:2:1,8p:8:2:1,96:n:2:1,ag:1:1:-3d,ah:3:2:1,an:1:1:-7g,ap:1:1:5u,aq:2:2:1,au:1:1:5q,av:1:1:1,ax:2:1:5p,az:1:1:1,b2:1:1:27,b3:1:1:5m,b4:1:1:5n,b5:1:1:1,b7:1:1:5p,b8:1:1:5r,ba:1:1:5v,bb:1:1:5t,bc:1:1:1,bg:1:1:5v,bh:1:1:5x,bj:1:1:5y,bk:3:2:1,bq:1:1:62,br:1:1:1,bt:1:1:62,bw:1:1:1,by:1:1:62,bz:1:1:1,c1:2:1:61,c3:2:2:1,c7:1:1:63,c8:1:1:1,cc:1:1:1,ck:1:1:2,cl:1:1:1,cn:1:1:2,co:1:1:1,cq:1:1:2,cr:9:2:1,da:9:2:1,dt:1:1:2,du:2:2:1,dy:1:1:-2p,dz:1:1:-1k,e0:k:2:1,f4:1:1:-3m,f6:9:2:1,fu:1:1:8bv,fv:1:1:1,fx:1:1:-4j,fy:1:1:8bs,g1:1:1:1,g3:1:1:-5f,g4:1:1:1x,g5:1:1:1z,g6:5:2:1,n9:1:1:38,og:2:2:1,om:1:1:1,ov:1:1:38,p2:1:1:12,p4:3:1:11,p8:1:1:1s,pa:2:1:1r,pd:h:1:w,pv:9:1:w,qq:1:1:1,r3:1:1:8,r4:1:1:-u,r5:1:1:-p,r9:1:1:-f,ra:1:1:-m,rc:c:2:1,s0:1:1:-1i,s1:1:1:-1c,s4:1:1:-1o,s5:1:1:-1s,s7:1:1:1,s9:1:1:-7,sa:1:1:1,sd:3:1:-3m,sg:g:1:28,sw:w:1:w,v4:h:2:1,wa:r:2:1,xs:1:1:f,xt:7:2:1,y8:1c:2:1,10x:12:1:1c,3a8:12:1:5ls,3bb:1:1:5ls,3bh:1:1:5ls,3y0:6:1:-8,5mo:1:1:-4su,5mp:1:1:-4st,5mq:1:1:-4sk,5mr:2:1:-4si,5mt:1:1:-4sj,5mu:1:1:-4sc,5mv:1:1:-4ro,5mw:1:1:r7n,5n4:17:1:-2bk,5od:3:1:-2bk,5xc:23:2:1,61n:1:1:-1m,61s:1c:2:1,64o:8:1:-8,654:6:1:-8,65k:8:1:-8,660:8:1:-8,66g:6:1:-8,66x:4:2:-8,67c:8:1:-8,69k:2:1:-8,69m:2:1:-22,69q:1:1:-5j9,6a0:4:1:-2e,6ag:2:1:-8,6ai:2:1:-2s,6aw:2:1:-8,6ay:2:1:-34,6b0:1:1:-7,6bc:2:1:-3k,6be:2:1:-3i,6jq:1:1:-5st,6ju:1:1:-6gv,6jv:1:1:-6di,6k2:1:1:s,6lc:g:1:g,6mb:1:1:1,792:q:1:q,8ow:1c:1:1c,8rk:1:1:1,8rm:1:1:-8af,8rn:1:1:-2xy,8ro:1:1:-89z,8rr:3:2:1,8rx:1:1:-8bg,8ry:1:1:-8al,8rz:1:1:-8bj,8s0:1:1:-8bi,8s2:1:1:1,8s5:1:1:1,8se:2:1:-8cf,8sg:1e:2:1,8vf:2:2:1,8vm:1:1:1,wu8:n:2:1,ww0:e:2:1,x0i:7:2:1,x0y:v:2:1,x2x:2:2:1,x31:1:1:-r9g,x32:5:2:1,x3f:1:1:1,x3h:1:1:-wmg,x3k:2:2:1,x3q:a:2:1,x4a:1:1:-wn8,x4b:1:1:-wnj,x4c:1:1:-wnf,x4d:1:1:-wn5,x4e:1:1:-wn8,x4g:1:1:-wlu,x4h:1:1:-wmi,x4i:1:1:-wlx,x4j:1:1:ps,x4k:8:2:1,x50:1:1:-1c,x51:1:1:-wn7,x52:1:1:-raw,x53:2:2:1,x5c:1:1:1,x5i:2:2:1,x6d:1:1:1,xv4:28:1:-tzk,1ee9:q:1:w,1fcw:14:1:14,1fhs:10:1:14,1fn4:j:2:13,1fn5:5:2:13,1fnh:7:2:13,1fnx:3:2:13,1fo5:1:1:13,1h1c:1f:1:1s,1jfk:w:1:w,20cg:w:1:w,2olc:y:1:y|67:37.37,8g:2x.lj,95:jg.32,ds:2y.lo,pc:qh.lk.ld,q8:qt.lk.ld,13b:12d.136,61i:2w.mp,61j:38.lk,61k:3b.lm,61l:3d.lm,61m:2p.ji,61q:37.37,66o:qt.lv,66q:qt.lv.lc,66s:qt.lv.ld,66u:qt.lv.n6,680:64g.qh,681:64h.qh,682:64i.qh,683:64j.qh,684:64k.qh,685:64l.qh,686:64m.qh,687:64n.qh,688:64g.qh,689:64h.qh,68a:64i.qh,68b:64j.qh,68c:64k.qh,68d:64l.qh,68e:64m.qh,68f:64n.qh,68g:65c.qh,68h:65d.qh,68i:65e.qh,68j:65f.qh,68k:65g.qh,68l:65h.qh,68m:65i.qh,68n:65j.qh,68o:65c.qh,68p:65d.qh,68q:65e.qh,68r:65f.qh,68s:65g.qh,68t:65h.qh,68u:65i.qh,68v:65j.qh,68w:674.qh,68x:675.qh,68y:676.qh,68z:677.qh,690:678.qh,691:679.qh,692:67a.qh,693:67b.qh,694:674.qh,695:675.qh,696:676.qh,697:677.qh,698:678.qh,699:679.qh,69a:67a.qh,69b:67b.qh,69e:67k.qh,69f:q9.qh,69g:q4.qh,69i:q9.n6,69j:q9.n6.qh,69o:q9.qh,69u:67o.qh,69v:qf.qh,69w:q6.qh,69y:qf.n6,69z:qf.n6.qh,6a4:qf.qh,6aa:qh.lk.lc,6ab:qh.lk.ld,6ae:qh.n6,6af:qh.lk.n6,6aq:qt.lk.lc,6ar:qt.lk.ld,6as:qp.lv,6au:qt.n6,6av:qt.lk.n6,6b6:67w.qh,6b7:qx.qh,6b8:r2.qh,6ba:qx.n6,6bb:qx.n6.qh,6bg:qx.qh,1dkw:2u.2u,1dkx:2u.2x,1dky:2u.30,1dkz:2u.2u.2x,1dl0:2u.2u.30,1dl1:37.38,1dl2:37.38,1dlf:12s.12u,1dlg:12s.12d,1dlh:12s.12j,1dli:132.12u,1dlj:12s.12l",
    ignorecase: "1t:q:1:w,5v:1:1:w,8g:1:1:-5j,8h:1:1:-5k,an:1:1:-7g,sx:1:1:w,t0:1:1:w,ta:1:1:w,5mp:1:1:-4st,5mq:1:1:-4sk,6ju:1:1:-6gv,1eed:1:1:w,1eeh:1:1:w,1eem:1:1:w,1ees:1:1:w,1eew:1:1:w|",
    idnaB1: "4t:1,ip:1,43a:1,4:3,1kt:3,2a:1,17rz:g,6n:1",
    idnaB2: "1t:q:1:w,51:1:1:lj,5c:n:1:w,60:7:1:w,74:o:2:1,8i:3:2:1,8p:8:2:1,96:n:2:1,ag:1:1:-3d,ah:3:2:1,an:1:1:-7g,ap:1:1:5u,aq:2:2:1,au:1:1:5q,av:1:1:1,ax:2:1:5p,az:1:1:1,b2:1:1:27,b3:1:1:5m,b4:1:1:5n,b5:1:1:1,b7:1:1:5p,b8:1:1:5r,ba:1:1:5v,bb:1:1:5t,bc:1:1:1,bg:1:1:5v,bh:1:1:5x,bj:1:1:5y,bk:3:2:1,bq:1:1:62,br:1:1:1,bt:1:1:62,bw:1:1:1,by:1:1:62,bz:1:1:1,c1:2:1:61,c3:2:2:1,c7:1:1:63,c8:1:1:1,cc:1:1:1,ck:1:1:2,cl:1:1:1,cn:1:1:2,co:1:1:1,cq:1:1:2,cr:9:2:1,da:9:2:1,dt:1:1:2,du:2:2:1,dy:1:1:-2p,dz:1:1:-1k,e0:k:2:1,f4:1:1:-3m,f6:9:2:1,fu:1:1:8bv,fv:1:1:1,fx:1:1:-4j,fy:1:1:8bs,g1:1:1:1,g3:1:1:-5f,g4:1:1:1x,g5:1:1:1z,g6:5:2:1,n9:1:1:38,og:2:2:1,om:1:1:1,ov:1:1:38,p2:1:1:12,p4:3:1:11,p8:1:1:1s,pa:2:1:1r,pd:h:1:w,pv:9:1:w,qq:1:1:1,r3:1:1:8,r4:1:1:-u,r5:1:1:-p,r6:1:1:-d,r7:1:1:-6,r8:1:1:-9,r9:1:1:-f,ra:1:1:-m,rc:c:2:1,s0:1:1:-1i,s1:1:1:-1c,s2:1:1:-1b,s4:1:1:-1o,s5:1:1:-1s,s7:1:1:1,s9:1:1:-1i,sa:1:1:1,sd:3:1:-3m,sg:g:1:28,sw:w:1:w,v4:h:2:1,wa:r:2:1,xs:1:1:f,xt:7:2:1,y8:1c:2:1,10x:12:1:1c,3a8:12:1:5ls,3bb:1:1:5ls,3bh:1:1:5ls,3vk:28:1:tzk,3xs:6:1:8,5n4:17:1:-2bk,5od:3:1:-2bk,5xc:23:2:1,61n:1:1:-1m,61s:1c:2:1,64o:8:1:-8,654:6:1:-8,65k:8:1:-8,660:8:1:-8,66g:6:1:-8,66x:4:2:-8,67c:8:1:-8,69k:2:1:-8,69m:2:1:-22,69q:1:1:-5j9,6a0:4:1:-2e,6ag:2:1:-8,6ai:2:1:-2s,6aw:2:1:-8,6ay:2:1:-34,6b0:1:1:-7,6bc:2:1:-3k,6be:2:1:-3i,6iq:1:1:-6fz,6iv:1:1:-624,6iz:1:1:-6g3,6j0:1:1:-6g4,6j1:1:1:-6g5,6j4:1:1:-6g7,6j5:1:1:-6g8,6j6:1:1:-6g6,6j9:1:1:-6g7,6jd:3:1:-6g9,6jg:1:1:-6ga,6jh:1:1:-6gb,6jo:1:1:-6ga,6jq:1:1:-5st,6js:1:1:-6ge,6ju:1:1:-6gv,6jv:1:1:-6di,6jw:2:1:-6h6,6k0:2:1:-6h7,6k2:1:1:s,6k3:1:1:-6h2,6ke:1:1:-5u3,6kf:1:1:-5tr,6kl:1:1:-6ht,6lc:g:1:g,6mb:1:1:1,792:q:1:q,8ow:1c:1:1c,8rk:1:1:1,8rm:1:1:-8af,8rn:1:1:-2xy,8ro:1:1:-89z,8rr:3:2:1,8rx:1:1:-8bg,8ry:1:1:-8al,8rz:1:1:-8bj,8s0:1:1:-8bi,8s2:1:1:1,8s5:1:1:1,8se:2:1:-8cf,8sg:1e:2:1,8vf:2:2:1,8vm:1:1:1,wu8:n:2:1,ww0:e:2:1,x0i:7:2:1,x0y:v:2:1,x2x:2:2:1,x31:1:1:-r9g,x32:5:2:1,x3f:1:1:1,x3h:1:1:-wmg,x3k:2:2:1,x3q:a:2:1,x4a:1:1:-wn8,x4b:1:1:-wnj,x4c:1:1:-wnf,x4d:1:1:-wn5,x4e:1:1:-wn8,x4g:1:1:-wlu,x4h:1:1:-wmi,x4i:1:1:-wlx,x4j:1:1:ps,x4k:8:2:1,x50:1:1:-1c,x51:1:1:-wn7,x52:1:1:-raw,x53:2:2:1,x5c:1:1:1,x5i:2:2:1,x6d:1:1:1,1ee9:q:1:w,1fcw:14:1:14,1fhs:10:1:14,1fn4:j:2:13,1fn5:5:2:13,1fnh:7:2:13,1fnx:3:2:13,1fo5:1:1:13,1h1c:1f:1:1s,1jfk:w:1:w,20cg:w:1:w,2kg0:q:1:-2kdb,2khg:q:1:-2ker,2kiw:q:1:-2kg7,2kkc:2:2:-2khn,2kkf:1:1:-2khn,2kki:1:1:-2khn,2kkl:2:1:-2khn,2kkp:4:1:-2khn,2kku:8:1:-2khn,2kls:q:1:-2kj3,2kn8:2:1:-2kkj,2knb:4:1:-2kkj,2knh:8:1:-2kkj,2knq:7:1:-2kkj,2koo:2:1:-2klz,2kor:4:1:-2klz,2kow:5:1:-2klz,2kp2:1:1:-2klz,2kp6:7:1:-2klz,2kq4:q:1:-2knf,2krk:q:1:-2kov,2kt0:q:1:-2kqb,2kug:q:1:-2krr,2kvw:q:1:-2kt7,2kxc:q:1:-2kun,2kyw:h:1:-2k8n,2kzd:1:1:-2k8x,2kze:7:1:-2k8n,2l03:1:1:-2k9c,2l0i:h:1:-2ka9,2l0z:1:1:-2kaj,2l10:7:1:-2ka9,2l1p:1:1:-2kay,2l24:h:1:-2kbv,2l2l:1:1:-2kc5,2l2m:7:1:-2kbv,2l3b:1:1:-2kck,2l3q:h:1:-2kdh,2l47:1:1:-2kdr,2l48:7:1:-2kdh,2l4x:1:1:-2ke6,2l5c:h:1:-2kf3,2l5t:1:1:-2kfd,2l5u:7:1:-2kf3,2l6j:1:1:-2kfs,2olc:y:1:y|67:37.37,8g:2x.lj,95:jg.32,ds:2y.lo,oq:w.qh,pc:qh.lk.ld,q8:qt.lk.ld,13b:12d.136,61i:2w.mp,61j:38.lk,61k:3b.lm,61l:3d.lm,61m:2p.ji,61q:37.37,66o:qt.lv,66q:qt.lv.lc,66s:qt.lv.ld,66u:qt.lv.n6,680:64g.qh,681:64h.qh,682:64i.qh,683:64j.qh,684:64k.qh,685:64l.qh,686:64m.qh,687:64n.qh,688:64g.qh,689:64h.qh,68a:64i.qh,68b:64j.qh,68c:64k.qh,68d:64l.qh,68e:64m.qh,68f:64n.qh,68g:65c.qh,68h:65d.qh,68i:65e.qh,68j:65f.qh,68k:65g.qh,68l:65h.qh,68m:65i.qh,68n:65j.qh,68o:65c.qh,68p:65d.qh,68q:65e.qh,68r:65f.qh,68s:65g.qh,68t:65h.qh,68u:65i.qh,68v:65j.qh,68w:674.qh,68x:675.qh,68y:676.qh,68z:677.qh,690:678.qh,691:679.qh,692:67a.qh,693:67b.qh,694:674.qh,695:675.qh,696:676.qh,697:677.qh,698:678.qh,699:679.qh,69a:67a.qh,69b:67b.qh,69e:67k.qh,69f:q9.qh,69g:q4.qh,69i:q9.n6,69j:q9.n6.qh,69o:q9.qh,69u:67o.qh,69v:qf.qh,69w:q6.qh,69y:qf.n6,69z:qf.n6.qh,6a4:qf.qh,6aa:qh.lk.lc,6ab:qh.lk.ld,6ae:qh.n6,6af:qh.lk.n6,6aq:qt.lk.lc,6ar:qt.lk.ld,6as:qp.lv,6au:qt.n6,6av:qt.lk.n6,6b6:67w.qh,6b7:qx.qh,6b8:r2.qh,6ba:qx.n6,6bb:qx.n6.qh,6bg:qx.qh,6g8:36.37,6ir:4w.2r,6ix:4w.2u,6ja:32.33,6jk:37.31,6jl:38.2t.30,6jm:38.31,a5t:2w.34.2p,a5v:2p.39,a5x:33.3a,a68:34.2p,a69:32.2p,a6a:qk.2p,a6b:31.2p,a6c:2z.2p,a6d:2z.2q,a6e:31.2q,a6f:2v.2q,a6i:34.2u,a6j:32.2u,a6k:qk.2u,a6o:2w.3e,a6p:2z.2w.3e,a6q:31.2w.3e,a6r:2v.2w.3e,a6s:38.2w.3e,a7d:34.2p,a7e:2z.34.2p,a7f:31.34.2p,a7g:2v.34.2p,a7o:34.3a,a7p:32.3a,a7q:qk.3a,a7r:31.3a,a7s:2z.3a,a7t:31.3a,a7u:34.3b,a7v:32.3b,a7w:qk.3b,a7x:31.3b,a7y:2z.3b,a7z:31.3b,a80:2z.qx,a81:31.qx,a83:2q.35,a86:2r.6qd.2z.2v,a87:2r.33.1a,a88:2s.2q,a89:2v.3d,a8b:2w.34,a8d:2z.2z,a8e:2z.31,a8n:34.2w,a8p:34.34.31,a8q:34.36,a8s:37.3a,a8t:3b.2q,1dkw:2u.2u,1dkx:2u.2x,1dky:2u.30,1dkz:2u.2u.2x,1dl0:2u.2u.30,1dl1:37.38,1dl2:37.38,1dlf:12s.12u,1dlg:12s.12d,1dlh:12s.12j,1dli:132.12u,1dlj:12s.12l",
    idnaProhibited: "3k:x,in:2,pn:1,1d:1,31s:1,b1:1,1kh:g,o:8,1b:5,6:6,328:c,4:1,yrj:4xs,y8:w,7j:1,6x:7,15df:8,96r:2,1eke:2,1eke:2,1eke:2,1eke:2,1eke:2,1eke:2,1eke:2,1eke:2,1eke:2,1eke:2,1eke:2,1eke:2,1:1,u:2o,1egu:2t4y",
    idnaRandAL: "14u:1,1:1,2:1,c:r,5:5,12:1,3:1,1:q,5:b,y:3,1:2t,7:1,7:2,j:5,1:e,2:1,1:r,2b:12,b:1,4t9:1,179p:1,1:a,1:d,1:5,1:1,1:2,1:2,1:30,x:a3,i:1s,2:1i,14:d,37:5,1:3r",
    idnaL: "1t:q,6:q,1b:1,a:1,4:1,5:n,1:v,1:89,1:i,s:2m,2:9,2:7,e:2,e:5,9:1,3v:1,b:1,1:3,1:1,1:k,1:18,1:12,a:3n,7:1x,1:12,2:2,6:g,x:12,2:7,1:13,1:1,op:1,1:1h,3:4,8:4,3:1,7:a,2:d,h:2,1:8,2:2,2:m,1:7,1:1,3:4,4:3,6:2,2:2,a:1,4:2,1:3,4:c,2:7,a:6,4:2,2:m,1:7,1:2,1:2,1:2,4:3,o:4,1:1,7:a,2:3,e:1,1:7,1:1,1:3,1:m,1:7,1:2,1:5,3:4,8:1,1:2,3:1,f:1,5:a,i:2,1:8,2:2,2:m,1:7,1:2,2:4,3:2,1:1,6:2,2:2,a:1,4:2,1:3,4:b,i:1,1:6,3:3,1:4,3:2,1:1,1:2,3:2,3:3,3:8,1:3,4:2,1:2,3:3,1:3,a:1,f:c,e:3,1:8,1:3,1:n,1:a,1:5,7:4,r:2,4:a,i:2,1:8,1:3,1:n,1:a,1:5,4:1,1:5,2:2,1:2,9:2,7:1,1:2,4:a,i:2,1:8,1:3,1:n,1:g,4:3,5:3,1:3,a:1,8:2,4:a,i:2,1:i,3:o,1:9,1:1,2:7,8:3,6:8,i:3,c:1c,1:2,c:7,8:d,11:2,1:1,2:2,1:1,2:1,6:4,1:7,1:3,1:1,1:1,2:2,1:4,1:2,9:1,2:5,1:1,9:a,2:2,y:o,2:r,1:1,1:1,5:a,1:y,k:1,5:1,2:4,1e:8,1:6,2:1,1c:y,1:5,1:2,1:1,4:1,6:1,7:o,20:12,a:15,2:1,4:2i,5:1w,5:2a,6:7,1:1r,1:1,1:4,2:7,1:1,1:4,2:13,1:1,1:4,2:v,1:1,1:4,2:7,1:1,1:4,2:7,1:7,1:n,1:v,1:1,1:4,2:7,1:13,1:j,6:s,z:2d,c:hi,a:q,5:29,f:d,1:4,e:i,3:2,9:i,e:d,1:3,f:1j,7:8,1:2,b:7,1:1,3:a,12:a,6:2g,8:15,11z:4c,4:2i,6:m,2:6,2:12,2:6,2:8,1:1,1:1,1:1,1:v,2:1h,1:7,1:1,3:3,1:7,3:4,2:6,4:d,5:3,1:7,h:1,2q:1,d:1,3m:1,4:1,2:a,1:1,3:5,6:1,1:1,1:1,1:4,1:3,1:7,3:3,5:5,m:10,c2:1x,q:1,7a:26,26z:3,p:9,7:5,2:5,4:2e,6:3,1:2i,1:4,5:14,4:2m,1:14,1k:19,3:10,s:s,3:1e,f:c,4:1b,1:3b,4:2r,2:v,1:52u,22:g4m,2i:wd,1gz:8mc,1ng:566,2:1n,45:7,c:5,sp:q,6:q,b:2h,3:6,2:6,2:6,2:3,mb:v,1:4,c:r,51:12,2:12,148i:6u,a:13,3:1p,3:9,g:2,7:u,4:1c,f6:2d,1:1z,1:2,2:1,2:2,2:4,1:c,1:1,1:4,1:2,1:1t,1:4,2:8,1:7,1:s,1:4,1:5,1:1,3:7,1:9e,4:82,7xy:wyf,g15:f2,gvz6:1eke,2:1eke",
    idnaFix: "467c:1:1:-198e,467o:1:1:-3nep,46cf:1:1:-3sz8,46e7:1:1:-3i5t,46gv:1:1:-3r6w|",
    idnaNewer: "s9:1,2ki:1,1zd:1,1:1,1:1,1:1,1:1,3:1,14:1,1:1,2:2,1:1,dk:3,1:b,1:i,1:s,d:1,y:11,k0:d,4e:2,j:3,1i:1,25u:2,6p:1,x9:2,11:4,8:1,17:3,25:4,1b:1,3b:4,2r:2,v:1,mn0:2,5u:1,3l:3,3:2,o2:4,9:1,fk4:2,1n:3,2:2y,mu:a,19:2,1tk:5,1:16,1:9,1r3:1,1:1,e:1,3m:2,ez:2,a6:2,1:1,6z:2,os:1,111k:1,de:2,84:2,4dw:4,1:r,1:2,1:1,2:1,1:a,1:4,1:1,1:1,6:1,4:1,1:1,1:1,1:3,1:2,1:1,2:1,1:1,1:1,1:1,1:1,1:2,1:1,2:4,1:7,1:4,1:4,1:1,1:a,1:h,5:3,1:5,1:h,g4:b,5:v,1:w,q:3,z:1,33:3,d:18,4:9,7:2,1we:a",
    phoneRegions: ["AC", "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GT", "GU", "GW", "GY", "HK", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY", "SZ", "TA", "TC", "TD", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "XK", "YE", "YT", "ZA", "ZM", "ZW"],
  };
  // END GENERATED TABLES

  // ---- Table decoding --------------------------------------------------------------------

  // "gap:length,..." (base 36) -> Int32Array [start0, end0, start1, end1, ...], end exclusive.
  function decodeRanges(text) {
    const parts = text ? text.split(",") : [];
    const out = new Int32Array(parts.length * 2);
    let at = 0;
    parts.forEach((p, i) => {
      const [gap, len] = p.split(":").map((x) => parseInt(x, 36));
      out[2 * i] = at + gap;
      out[2 * i + 1] = at + gap + len;
      at += gap + len;
    });
    return out;
  }

  function inRanges(r, cp) {
    let lo = 0;
    let hi = r.length / 2 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (cp < r[2 * mid]) hi = mid - 1;
      else if (cp >= r[2 * mid + 1]) lo = mid + 1;
      else return true;
    }
    return false;
  }

  // "start:count:stride:delta,...|cp:c1.c2...,..." (base 36) -> Map(code point -> [code points]).
  function decodeMap(text) {
    const [runs, multis] = text.split("|");
    const out = new Map();
    for (const run of runs ? runs.split(",") : []) {
      const [start, count, stride, delta] = run.split(":").map((x) => parseInt(x, 36));
      for (let i = 0; i < count; i++) out.set(start + i * stride, [start + i * stride + delta]);
    }
    for (const m of multis ? multis.split(",") : []) {
      const [cp, to] = m.split(":");
      out.set(parseInt(cp, 36), to.split(".").map((x) => parseInt(x, 36)));
    }
    return out;
  }

  function decodeDigits(text) {
    const out = new Map();
    let at = 0;
    for (const p of text.split(",")) {
      const [gap, len, first] = p.split(":").map((x) => parseInt(x, 36));
      for (let i = 0; i < len; i++) out.set(at + gap + i, first + i);
      at += gap + len;
    }
    return out;
  }

  // A regular-expression class (for the u flag) of a range table.
  function classOf(r) {
    let s = "";
    for (let i = 0; i < r.length; i += 2) {
      s += "\\u{" + r[i].toString(16) + "}";
      if (r[i + 1] - 1 > r[i]) s += "-\\u{" + (r[i + 1] - 1).toString(16) + "}";
    }
    return s;
  }

  const T = TABLES;
  const ASSIGNED = decodeRanges(T.assigned);
  const PUNCT = decodeRanges(T.punct);
  const SPACE = decodeRanges(T.space);
  const ALPHA = decodeRanges(T.alpha);
  const ISDIGIT = decodeRanges(T.isdigit);
  const DECIMAL = decodeRanges(T.decimal);
  const WORD = decodeRanges(T.word);
  const CASE_IGNORABLE = decodeRanges(T.caseIgnorable);
  const CASED = decodeRanges(T.cased);
  const DIGIT_VALUE = decodeDigits(T.digitValue);
  const LOWER = decodeMap(T.lower);
  const UPPER = decodeMap(T.upper);
  const CASEFOLD = decodeMap(T.casefold);
  const IGNORECASE = decodeMap(T.ignorecase);
  const IDNA_B1 = decodeRanges(T.idnaB1);
  const IDNA_B2 = decodeMap(T.idnaB2);
  const IDNA_PROHIBITED = decodeRanges(T.idnaProhibited);
  const IDNA_RANDAL = decodeRanges(T.idnaRandAL);
  const IDNA_L = decodeRanges(T.idnaL);
  const IDNA_FIX = decodeMap(T.idnaFix);
  const IDNA_NEWER = decodeRanges(T.idnaNewer);
  const PHONE_REGIONS = new Set(T.phoneRegions);

  const WS = classOf(SPACE); // Python's whitespace (str.isspace, the \s of re)
  const DIGIT = classOf(DECIMAL); // Python's \d
  const STRIP = new RegExp("^[" + WS + "]+|[" + WS + "]+$", "gu");
  const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/;
  const ASCII = /^[\x00-\x7f]*$/;

  // ---- Python's str, on arrays of code points ----------------------------------------------

  class InvalidPersonalValue extends Error {
    constructor(kind, problem) {
      super(kind + ": " + problem);
      this.name = "InvalidPersonalValue";
      this.kind = kind;
    }
  }

  function codePoints(kind, text) {
    if (LONE_SURROGATE.test(text)) {
      throw new InvalidPersonalValue(kind, "holds an unpaired UTF-16 surrogate, which is not text");
    }
    return Array.from(text, (ch) => ch.codePointAt(0));
  }

  function fromCodePoints(cps) {
    let s = "";
    for (let i = 0; i < cps.length; i += 4096) s += String.fromCodePoint(...cps.slice(i, i + 4096));
    return s;
  }

  function mapped(cps, map) {
    const out = [];
    for (const cp of cps) {
      const m = map.get(cp);
      if (m) out.push(...m);
      else out.push(cp);
    }
    return out;
  }

  const pyStrip = (text) => text.replace(STRIP, "");
  const pyUpper = (cps) => mapped(cps, UPPER);
  const pyCasefold = (cps) => mapped(cps, CASEFOLD);

  // str.lower, with its final-sigma rule for U+03A3.
  function pyLower(cps) {
    const out = [];
    for (let i = 0; i < cps.length; i++) {
      if (cps[i] !== 0x3a3) {
        const m = LOWER.get(cps[i]);
        if (m) out.push(...m);
        else out.push(cps[i]);
        continue;
      }
      let j = i - 1;
      while (j >= 0 && inRanges(CASE_IGNORABLE, cps[j])) j--;
      let final = j >= 0 && inRanges(CASED, cps[j]);
      if (final && i + 1 < cps.length) {
        j = i + 1;
        while (j < cps.length && inRanges(CASE_IGNORABLE, cps[j])) j++;
        final = j === cps.length || !inRanges(CASED, cps[j]);
      }
      out.push(final ? 0x3c2 : 0x3c3);
    }
    return out;
  }

  let engineOk = null;
  // unicodedata.normalize: the browser's, for the runs of characters Python has assigned (a
  // character Python has not is a starter without decomposition there: it stays as it is).
  function pyNormalize(kind, form, text) {
    if (ASCII.test(text)) return text;
    if (engineOk === null) engineOk = T.probes.every(([probe, want]) => probe.normalize("NFKC") === want);
    if (!engineOk) {
      throw new InvalidPersonalValue(kind, "this browser's Unicode data is older than the hub's (Unicode " +
        T.unicode + "): use an up-to-date browser for values with characters outside ASCII");
    }
    let out = "";
    let run = "";
    for (const ch of text) {
      if (inRanges(ASSIGNED, ch.codePointAt(0))) {
        run += ch;
      } else {
        out += run.normalize(form) + ch;
        run = "";
      }
    }
    return out + run.normalize(form);
  }

  function pyRepr(text) {
    const q = text.includes("'") && !text.includes('"') ? '"' : "'";
    return q + text.replace(/\\/g, "\\\\").replace(new RegExp(q, "g"), "\\" + q) + q;
  }

  function pyTypeName(value) {
    if (value === null || value === undefined) return "NoneType";
    if (typeof value === "boolean") return "bool";
    if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
    if (Array.isArray(value)) return "list";
    if (typeof value === "object") return "dict";
    return typeof value;
  }

  // ---- e-mail --------------------------------------------------------------------------------

  const NOT_EMAIL = "not an e-mail address (expected local@domain)";
  const BAD_DOMAIN = "the domain is not a valid domain name";
  // _EMAIL_RE with Python's \s and "." (anything but \n); Python's \Z is "$" without the m flag.
  const EMAIL_RE = new RegExp(
    "^[^@" + WS + "\"(),:;<>\\[\\]\\\\]{1,64}@" +
    "(?=[^\\n]{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z0-9-]{2,63}$", "u");

  // RFC 3492, as Python's punycode codec.
  function punycode(cps) {
    const digit = (d) => String.fromCharCode(d < 26 ? 97 + d : 22 + d);
    const adapt = (delta, points, first) => {
      delta = first ? Math.floor(delta / 700) : delta >> 1;
      delta += Math.floor(delta / points);
      let k = 0;
      while (delta > 455) {
        delta = Math.floor(delta / 35);
        k += 36;
      }
      return k + Math.floor(36 * delta / (delta + 38));
    };
    let out = fromCodePoints(cps.filter((c) => c < 0x80));
    const basic = out.length;
    if (basic) out += "-";
    let n = 0x80;
    let delta = 0;
    let bias = 72;
    let handled = basic;
    while (handled < cps.length) {
      let m = Infinity;
      for (const c of cps) if (c >= n && c < m) m = c;
      delta += (m - n) * (handled + 1);
      n = m;
      for (const c of cps) {
        if (c < n) delta++;
        if (c !== n) continue;
        let q = delta;
        for (let k = 36; ; k += 36) {
          const t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
          if (q < t) break;
          out += digit(t + (q - t) % (36 - t));
          q = Math.floor((q - t) / (36 - t));
        }
        out += digit(q);
        bias = adapt(delta, handled + 1, handled === basic);
        delta = 0;
        handled++;
      }
      delta++;
      n++;
    }
    return out;
  }

  // RFC 3491 nameprep, as Python's encodings.idna (AllowUnassigned, Unicode 3.2 tables).
  function nameprep(label) {
    let cps = [];
    for (const cp of codePoints("email", label)) {
      if (inRanges(IDNA_B1, cp)) continue;
      const m = IDNA_B2.get(cp);
      if (m) cps.push(...m);
      else cps.push(cp);
    }
    if (cps.some((cp) => inRanges(IDNA_NEWER, cp))) {
      throw new InvalidPersonalValue("email", "the domain has a character newer than IDNA 2003 (Unicode 3.2) " +
        "that this page cannot convert as the hub does");
    }
    cps = mapped(cps, IDNA_FIX);
    const text = pyNormalize("email", "NFKC", fromCodePoints(cps));
    cps = codePoints("email", text);
    if (cps.some((cp) => inRanges(IDNA_PROHIBITED, cp))) throw new InvalidPersonalValue("email", BAD_DOMAIN);
    const randal = cps.map((cp) => inRanges(IDNA_RANDAL, cp));
    if (randal.some(Boolean)) {
      if (cps.some((cp) => inRanges(IDNA_L, cp)) || !randal[0] || !randal[randal.length - 1]) {
        throw new InvalidPersonalValue("email", BAD_DOMAIN);
      }
    }
    return text;
  }

  // RFC 3490 ToASCII (UseSTD3ASCIIRules false), as Python's encodings.idna.
  function toAscii(label) {
    const sized = (text) => {
      if (text.length > 0 && text.length < 64) return text;
      throw new InvalidPersonalValue("email", BAD_DOMAIN);
    };
    if (ASCII.test(label)) return sized(label);
    const prepped = nameprep(label);
    if (ASCII.test(prepped)) return sized(prepped);
    if (prepped.startsWith("xn--")) throw new InvalidPersonalValue("email", BAD_DOMAIN);
    return sized("xn--" + punycode(codePoints("email", prepped)));
  }

  function idna(domain) {
    const labels = domain.split(/[.\u3002\uff0e\uff61]/);
    let trailing = "";
    if (labels[labels.length - 1] === "") {
      trailing = ".";
      labels.pop();
    }
    return labels.map(toAscii).join(".") + trailing;
  }

  function email(value) {
    const text = fromCodePoints(pyLower(codePoints("email", pyNormalize("email", "NFC", pyStrip(value)))));
    const at = text.lastIndexOf("@");
    const local = at < 0 ? "" : text.slice(0, at);
    if (!local) throw new InvalidPersonalValue("email", NOT_EMAIL);
    let domain = text.slice(at + 1).replace(/\.+$/, "");
    if (!ASCII.test(domain)) domain = idna(domain);
    const out = local + "@" + domain;
    if (!EMAIL_RE.test(out)) throw new InvalidPersonalValue("email", NOT_EMAIL);
    return out;
  }

  // ---- phone -----------------------------------------------------------------------------------
  // phonenumbers.parse up to the country code, ported; the rest is libphonenumber-js's.

  const NOT_PHONE = "not a phone number (give it in international form +<country code>..., or a default region)";
  const INVALID_PHONE = "not a valid phone number for its country";
  const PLUS_CHARS = "+\uff0b";
  const PUNCTUATION = "\\-x\\u2010-\\u2015\\u2212\\u30fc\\uff0d-\\uff0f \\u00a0\\u00ad\\u200b\\u2060\\u3000()" +
    "\\uff08\\uff09\\uff3b\\uff3d.\\[\\]\\/~\\u2053\\u223c\\uff5e";
  const ALPHA_LETTERS = "A-Za-z";
  const extDigits = (max) => "([" + DIGIT + "]{1," + max + "})";
  const EXTN_PARSING = (() => {
    const sepBetween = "[ \\u00a0\\t,]*";
    const afterLabel = "[:\\.\\uff0e]?[ \\u00a0\\t,\\-]*";
    const suffix = "#?";
    const explicit = "(?:e?xt(?:ensi(?:o\\u0301?|\\u00f3))?n?|\\uff45?\\uff58\\uff54\\uff4e?|\\u0434\\u043e\\u0431|anexo)";
    const ambiguous = "(?:[x\\uff58#\\uff03~\\uff5e]|int|\\uff49\\uff4e\\uff54)";
    const noComma = "[ \\u00a0\\t]*";
    return [
      ";ext=" + extDigits(20),
      sepBetween + explicit + afterLabel + extDigits(20) + suffix,
      sepBetween + ambiguous + afterLabel + extDigits(9) + suffix,
      "[\\- ]+" + extDigits(6) + "#",
      noComma + "(?:,{2}|;)" + afterLabel + extDigits(15) + suffix,
      noComma + "(?:,)+" + afterLabel + extDigits(9) + suffix,
    ].join("|");
  })();
  // The case-insensitive patterns run on the text with Python's case-insensitive equivalents of
  // their letters folded to those letters (one UTF-16 unit for one: positions are kept).
  const VALID_PHONE_RE = new RegExp("^(?:[" + DIGIT + "]{2}|[" + PLUS_CHARS + "]*(?:[" + PUNCTUATION + "*]*[" + DIGIT +
    "]){3,}[" + PUNCTUATION + "*" + ALPHA_LETTERS + DIGIT + "]*(?:" + EXTN_PARSING + ")?)$", "u");
  const EXTN_RE = new RegExp("(?:" + EXTN_PARSING + ")(?=\\n?$)", "u");
  const SECOND_NUMBER_RE = /[\\/] *x/;
  const PLUS_RE = new RegExp("^[" + PLUS_CHARS + "]+");
  const GLOBAL_DIGITS_RE = new RegExp("^\\+[" + DIGIT + "\\-.()]*$", "u");
  const HAS_DIGIT_RE = new RegExp("[" + DIGIT + "]", "u");
  const DOMAIN_LABEL_RE = new RegExp("^[A-Za-z" + DIGIT + "](?:[A-Za-z" + DIGIT + "\\-]*[A-Za-z" + DIGIT + "])?$", "u");
  const TOP_LABEL_RE = new RegExp("^[A-Za-z](?:[A-Za-z" + DIGIT + "\\-]*[A-Za-z" + DIGIT + "])?$", "u");
  const KEYPAD = "22233344455566677778889999";

  function foldCase(text) {
    let out = "";
    for (let i = 0; i < text.length; i++) {
      const m = IGNORECASE.get(text.charCodeAt(i));
      out += m ? String.fromCharCode(m[0]) : text[i];
    }
    return out;
  }

  const cpLength = (text) => Array.from(text).length;

  function isViable(number) {
    return cpLength(number) >= 2 && VALID_PHONE_RE.test(foldCase(number));
  }

  function phoneContextValid(context) {
    if (context === "") return false;
    if (GLOBAL_DIGITS_RE.test(context) && HAS_DIGIT_RE.test(context)) return true;
    const labels = context.split(".");
    if (labels.length > 1 && labels[labels.length - 1] === "") labels.pop();
    const top = labels.pop();
    return TOP_LABEL_RE.test(top) && labels.every((l) => DOMAIN_LABEL_RE.test(l));
  }

  function extractPossibleNumber(number) {
    let start = -1;
    let i = 0;
    for (const ch of number) {
      if (PLUS_CHARS.includes(ch) || inRanges(DECIMAL, ch.codePointAt(0))) {
        start = i;
        break;
      }
      i += ch.length;
    }
    if (start < 0) return "";
    let cps = Array.from(number.slice(start), (ch) => ch.codePointAt(0));
    let end = cps.length;
    while (end > 0 && (cps[end - 1] === 0x5f || (cps[end - 1] !== 0x23 && !inRanges(WORD, cps[end - 1])))) end--;
    cps = cps.slice(0, end);
    let text = fromCodePoints(cps);
    const second = SECOND_NUMBER_RE.exec(text);
    if (second) text = text.slice(0, second.index);
    return text;
  }

  function buildNationalNumber(number) {
    const tag = ";phone-context=";
    const at = number.indexOf(tag);
    let context = null;
    if (at !== -1) {
      const start = at + tag.length;
      if (start >= number.length) {
        context = "";
      } else {
        const end = number.indexOf(";", start);
        context = end !== -1 ? number.slice(start, end) : number.slice(start);
      }
      if (!phoneContextValid(context)) throw new InvalidPersonalValue("phone", NOT_PHONE);
    }
    let national;
    if (context !== null) {
      national = context[0] === "+" ? context : "";
      const tel = number.indexOf("tel:");
      national += number.slice(tel >= 0 ? tel + 4 : 0, at);
    } else {
      national = extractPossibleNumber(number);
    }
    const isub = national.indexOf(";isub=");
    if (isub > 0) national = national.slice(0, isub);
    return national;
  }

  function stripExtension(number) {
    const m = EXTN_RE.exec(foldCase(number));
    if (m && isViable(number.slice(0, m.index)) && m.slice(1).some((g) => g !== undefined)) {
      return number.slice(0, m.index);
    }
    return number;
  }

  // phonenumbers' _normalize: vanity letters read off the keypad when there are 3 or more (and
  // no line break), else the digits of any script (unicodedata.digit) only.
  function phoneDigits(text) {
    const cps = Array.from(text, (ch) => ch.codePointAt(0));
    let letters = 0;
    for (const cp of cps) if ((cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a)) letters++;
    let out = "";
    if (letters >= 3 && !cps.includes(0x0a)) {
      for (const cp of cps) {
        const up = UPPER.get(cp) || [cp];
        if (up.length !== 1) continue;
        if (up[0] >= 0x30 && up[0] <= 0x39) out += String.fromCharCode(up[0]);
        else if (up[0] >= 0x41 && up[0] <= 0x5a) out += KEYPAD[up[0] - 0x41];
      }
      return out;
    }
    for (const cp of cps) {
      const d = DIGIT_VALUE.get(cp);
      if (d !== undefined) out += String(d);
    }
    return out;
  }

  let phoneLib = null;
  function lib() {
    if (phoneLib) return phoneLib;
    if (!root.libphonenumber && root.process && typeof require === "function" && typeof __dirname === "string") {
      const fs = require("fs");
      const path = require("path");
      const vm = require("vm");
      const file = path.join(__dirname, "..", "vendor", "libphonenumber.js");
      vm.runInThisContext(fs.readFileSync(file, "utf8"), { filename: file });
    }
    const ns = root.libphonenumber;
    if (!ns || !ns.parsePhoneNumberWithError) {
      throw new Error("the page's phone number library (vendor/libphonenumber.js) is not loaded");
    }
    phoneLib = ns;
    return ns;
  }

  function libParse(digits, region) {
    const L = lib();
    try {
      return L.parsePhoneNumberWithError(digits, { defaultCountry: region, extract: false });
    } catch (e) {
      if (e instanceof L.ParseError) return e;
      throw e;
    }
  }

  // Python takes a leading international prefix of the region (its metadata's pattern, unless a
  // 0 follows) off a number without +, and refuses what is left if it is 2 digits or fewer;
  // libphonenumber-js leaves such a prefix on when nothing follows it.
  function tooShortAfterIdd(digits, region) {
    const L = lib();
    const meta = new L.Metadata();
    meta.selectNumberingPlan(region);
    const idd = new RegExp("^(?:" + meta.IDDPrefix() + ")").exec(digits);
    if (!idd) return false;
    const rest = digits.slice(idd[0].length);
    return rest[0] !== "0" && rest.length <= 2;
  }

  function phone(value, defaultRegion) {
    const number = pyStrip(value);
    const region = typeof defaultRegion === "string" && PHONE_REGIONS.has(defaultRegion) ? defaultRegion : undefined;
    if (cpLength(number) > 250) throw new InvalidPersonalValue("phone", NOT_PHONE);
    codePoints("phone", number);
    let national = buildNationalNumber(number);
    if (!isViable(national)) throw new InvalidPersonalValue("phone", NOT_PHONE);
    const plus = PLUS_RE.exec(national);
    if (!region && !plus) throw new InvalidPersonalValue("phone", NOT_PHONE);
    national = stripExtension(national);
    const lead = PLUS_RE.exec(national);
    const digits = phoneDigits(lead ? national.slice(lead[0].length) : national);
    if (lead ? digits.length <= 2 : tooShortAfterIdd(digits, region)) {
      throw new InvalidPersonalValue("phone", NOT_PHONE);
    }
    let parsed = libParse(lead ? "+" + digits : digits, region);
    if (parsed instanceof Error && lead && parsed.message === "INVALID_COUNTRY") {
      // Python reads the digits after an unknown country code once more in the default region
      // (its metadata even when the region was given in lower case), for an international prefix
      // or that region's own country code.
      const upper = typeof defaultRegion === "string"
        ? fromCodePoints(pyUpper(codePoints("phone", defaultRegion))) : "";
      if (PHONE_REGIONS.has(upper)) {
        const again = libParse(digits, upper);
        if (!(again instanceof Error) && again.__countryCallingCodeSource) parsed = again;
      }
    }
    if (parsed instanceof Error) throw new InvalidPersonalValue("phone", NOT_PHONE);
    if (!parsed.isValid()) throw new InvalidPersonalValue("phone", INVALID_PHONE);
    return parsed.number;
  }

  // ---- payment instrument ----------------------------------------------------------------------

  function luhnIsValid(digits) {
    if (!/^[0-9]+$/.test(digits)) return false;
    let total = 0;
    for (let i = 0; i < digits.length; i++) {
      let d = digits.charCodeAt(digits.length - 1 - i) - 48;
      if (i % 2 === 1) {
        d *= 2;
        if (d > 9) d -= 9;
      }
      total += d;
    }
    return total % 10 === 0;
  }

  function ibanIsValid(iban) {
    if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
    let rest = 0;
    for (const ch of iban.slice(4) + iban.slice(0, 4)) {
      const v = parseInt(ch, 36);
      rest = v < 10 ? (rest * 10 + v) % 97 : (rest * 100 + v) % 97;
    }
    return rest === 1;
  }

  function paymentInstrument(value) {
    const kind = "payment_instrument";
    const cps = pyUpper(codePoints(kind, pyNormalize(kind, "NFKC", value))
      .filter((cp) => cp !== 0x2d && !inRanges(SPACE, cp)));
    const compact = fromCodePoints(cps);
    if (/^[0-9]+$/.test(compact)) {
      if (compact.length < 12 || compact.length > 19) {
        throw new InvalidPersonalValue(kind, "a card number must have 12 to 19 digits");
      }
      if (!luhnIsValid(compact)) throw new InvalidPersonalValue(kind, "not a valid card number (Luhn check failed)");
      return compact;
    }
    const head = cps.slice(0, 2);
    const check = cps.slice(2, 4);
    if (head.length && head.every((cp) => inRanges(ALPHA, cp)) &&
        check.length && check.every((cp) => inRanges(ISDIGIT, cp))) {
      if (!ibanIsValid(compact)) throw new InvalidPersonalValue(kind, "not a valid IBAN (shape or mod-97 check failed)");
      return compact;
    }
    throw new InvalidPersonalValue(kind, "neither a card number nor an IBAN");
  }

  // ---- names and addresses ---------------------------------------------------------------------

  // Apostrophes vanish; every other punctuation character (categories P*) separates words.
  const APOSTROPHES = new Set([0x27, 0x2018, 0x2019, 0x2bc, 0x60, 0xb4]);

  function nameOrAddress(kind, value) {
    const cps = pyCasefold(codePoints(kind, pyNormalize(kind, "NFKC", value)))
      .filter((cp) => !APOSTROPHES.has(cp))
      .map((cp) => (inRanges(PUNCT, cp) ? 0x20 : cp));
    const out = [];
    for (const cp of cps) {
      if (!inRanges(SPACE, cp)) out.push(cp);
      else if (out.length && out[out.length - 1] !== 0x20) out.push(0x20);
    }
    if (out.length && out[out.length - 1] === 0x20) out.pop();
    if (!out.length) throw new InvalidPersonalValue(kind, "empty after normalisation");
    return fromCodePoints(out);
  }

  // ---- API -------------------------------------------------------------------------------------

  // The canonical form of a personal value (hub.pseudonyms.normalise.normalise), or an Error
  // whose message is the Python one.
  function normalise(kind, value, defaultRegion) {
    if (typeof value !== "string") {
      throw new InvalidPersonalValue(kind, "must be a string, got " + pyTypeName(value));
    }
    switch (kind) {
      case "email": return email(value);
      case "phone": return phone(value, defaultRegion);
      case "payment_instrument": return paymentInstrument(value);
      case "name":
      case "address": return nameOrAddress(kind, value);
      case "provider_account": {
        codePoints(kind, value);
        const stripped = pyStrip(value);
        if (!stripped) throw new InvalidPersonalValue(kind, "empty");
        return stripped;
      }
      default:
        throw new Error("unknown personal value kind " + pyRepr(String(kind)) + "; expected one of (" +
          T.kinds.map(pyRepr).join(", ") + ")");
    }
  }

  // What is pseudonymised for a provider's account id (hub.pseudonyms.kinds.provider_account_value).
  function providerAccountValue(identityId, accountId) {
    return identityId + "/" + pyStrip(accountId);
  }

  const api = { normalise, providerAccountValue, InvalidPersonalValue, unicodeVersion: T.unicode };
  if (typeof module === "object" && module && root.process) module.exports = api;
  root.AbusehubNormalise = api;
})(typeof window !== "undefined" ? window : globalThis);
