#!/usr/bin/env node
// bench/gen-people.mjs — synthetic HCP (doctor) records with a known truth,
// for `medreach dedupe` (bench/dedupe.sh) and anyone testing record linkage.
//
//   node bench/gen-people.mjs [--n 100000] [--seed 1] [--out FILE]
//
// Writes CSV (UTF-8, RFC 4180) with the header
//   id,truth,name,pinyin,gender,birth_date,phone,email,hospital,city,license_no
// `truth` is the entity a record belongs to; `id` is the record's own id.
// Same --n and --seed give the same bytes. No dependencies.
//
// The population. Surnames are drawn by their real frequency (王 李 张 about
// 7 % each, down to 欧阳), given names are one (35 %) or two characters from
// ~180 common name characters weighted by popularity and gender, with their
// pinyin. So names collide as they do in China: a 100k file has hundreds of
// 王伟 and 张敏, and name alone cannot tell people apart. Each person has a
// birth date (1955-2000), a +86 mobile number, often an e-mail made from
// the pinyin (or a numeric QQ address), a hospital out of ~100 (real large
// hospitals, and city hospitals), its city, and a 15-digit practising
// licence number (执业证书编码-like: category, type, region, year, serial).
// Even originals have gaps, as in a rep-keyed CRM: e-mail 35 %, licence
// 30 %, birth date 15 %, phone 10 %, pinyin 5 %, gender 3 % missing.
//
// The noise. About 30 % of entities get 1 (60 %), 2 (28 %) or 3 (12 %)
// duplicate records, as when the same doctor was keyed by different reps,
// in different systems, years apart. Each duplicate starts from the
// original and independently gets, with these probabilities:
//   name      12 % a given-name character replaced by a homophone (伟→玮,
//             same pinyin: the usual input-method slip); 4 % a character
//             replaced by an unrelated one (the pinyin column keeps the old
//             spelling half of the time); 3 % a space inside (王 伟); 2 %
//             padded with blanks or a full-width space; 2 % missing
//   pinyin    60 % other spelling (WANG Wei, wang wei, WangWei, Wang Xiao Ming);
//             3 % western order (Wei Wang); 2 % one letter wrong; 10 % missing
//   gender    8 % missing, 1 % wrong
//   birth     30 % another format (1980/3/5, 19800305, 1980年3月5日); 5 % day
//             and month swapped (when both <= 12); 3 % one digit wrong; 3 %
//             a few days off; 12 % missing
//   phone     40 % another format (138-1234-5678, +86 138 1234 5678,
//             0086-13812345678, 138 1234 5678); 3 % two adjacent digits
//             transposed; 10 % a different number (changed phones);
//             12 % missing
//   e-mail    10 % upper-cased; 8 % a different address; 30 % missing
//   hospital  25 % its common abbreviation (北京协和医院→协和医院,
//             四川大学华西医院→华西医院, 浙江大学医学院附属第一医院→浙大一院);
//             8 % moved to another hospital (half of them in the same city);
//             5 % missing
//   city      30 % with or without 市 (北京 / 北京市); 10 % missing
//   licence   3 % two adjacent digits transposed; 2 % one digit wrong; 5 %
//             written with blanks or dashes; 20 % missing
// Records are shuffled, so duplicates are not next to each other.
import { createWriteStream } from 'node:fs';

function parseArgs(argv) {
  const a = { n: 100000, seed: 1, out: null };
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--n') a.n = Number(argv[++i]);
    else if (k === '--seed') a.seed = Number(argv[++i]);
    else if (k === '--out') a.out = argv[++i];
    else if (k === '-h' || k === '--help') {
      process.stdout.write('usage: node bench/gen-people.mjs [--n 100000] [--seed 1] [--out FILE]\n');
      process.exit(0);
    } else {
      process.stderr.write(`gen-people: unknown argument '${k}'\n`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(a.n) || a.n < 1) {
    process.stderr.write('gen-people: --n must be a positive integer\n');
    process.exit(2);
  }
  return a;
}

// mulberry32: small, fast, seeded.
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const args = parseArgs(process.argv);
const R = rng(args.seed);
const chance = (p) => R() < p;
const int = (lo, hi) => lo + Math.floor(R() * (hi - lo + 1));
const pick = (arr) => arr[Math.floor(R() * arr.length)];
function weighted(items, w = (x) => x.w) {
  let total = 0;
  for (const it of items) total += w(it);
  return () => {
    let r = R() * total;
    for (const it of items) {
      r -= w(it);
      if (r < 0) return it;
    }
    return items[items.length - 1];
  };
}

// Surnames with pinyin and frequency (per cent, approximate).
const SURNAMES = `王 wang 7.1|李 li 7.0|张 zhang 6.8|刘 liu 5.4|陈 chen 4.6|杨 yang 3.1|黄 huang 2.5|赵 zhao 2.3|吴 wu 2.0|周 zhou 1.9|徐 xu 1.3|孙 sun 1.3|马 ma 1.2|朱 zhu 1.2|胡 hu 1.1|郭 guo 1.1|何 he 1.0|林 lin 1.0|高 gao 1.0|罗 luo 0.9|郑 zheng 0.8|梁 liang 0.8|谢 xie 0.7|宋 song 0.6|唐 tang 0.6|许 xu 0.6|韩 han 0.5|邓 deng 0.5|冯 feng 0.5|曹 cao 0.5|彭 peng 0.5|曾 zeng 0.5|肖 xiao 0.5|田 tian 0.4|董 dong 0.4|潘 pan 0.4|袁 yuan 0.4|蔡 cai 0.4|蒋 jiang 0.4|余 yu 0.4|于 yu 0.4|杜 du 0.4|叶 ye 0.4|程 cheng 0.3|魏 wei 0.3|苏 su 0.3|吕 lv 0.3|丁 ding 0.3|任 ren 0.3|卢 lu 0.3|姚 yao 0.3|沈 shen 0.3|钟 zhong 0.3|姜 jiang 0.3|崔 cui 0.3|谭 tan 0.3|陆 lu 0.3|范 fan 0.2|汪 wang 0.2|廖 liao 0.2|石 shi 0.2|金 jin 0.2|韦 wei 0.2|贾 jia 0.2|夏 xia 0.2|付 fu 0.2|方 fang 0.2|邹 zou 0.2|熊 xiong 0.2|白 bai 0.2|孟 meng 0.2|秦 qin 0.2|邱 qiu 0.2|侯 hou 0.2|江 jiang 0.2|尹 yin 0.2|薛 xue 0.2|闫 yan 0.2|段 duan 0.2|雷 lei 0.2|龙 long 0.1|黎 li 0.1|史 shi 0.1|陶 tao 0.1|贺 he 0.1|毛 mao 0.1|郝 hao 0.1|顾 gu 0.1|龚 gong 0.1|邵 shao 0.1|万 wan 0.1|覃 qin 0.1|武 wu 0.1|钱 qian 0.1|戴 dai 0.1|严 yan 0.1|欧阳 ouyang 0.05|司马 sima 0.01`
  .split('|').map((s) => { const [c, p, w] = s.split(' '); return { c, p, w: Number(w) }; });

// Given-name characters: character, pinyin, popularity, gender (M, F or N for either).
const GIVEN = `伟 wei 3 M|玮 wei .5 M|炜 wei .4 M|薇 wei .6 F|芳 fang 2 F|方 fang .4 N|娜 na 1.5 F|敏 min 1.5 F|民 min .6 M|静 jing 1.8 F|晶 jing .6 F|婧 jing .4 F|靖 jing .3 M|京 jing .2 N|丽 li 1.5 F|莉 li .8 F|立 li .6 M|力 li .5 M|利 li .3 N|强 qiang 1.3 M|磊 lei 1.3 M|蕾 lei .5 F|雷 lei .2 M|军 jun 1.2 M|君 jun .5 N|俊 jun .8 M|峻 jun .2 M|洋 yang 1 N|阳 yang .7 M|扬 yang .2 N|勇 yong 1.1 M|永 yong .5 M|涌 yong .1 M|艳 yan 1.1 F|燕 yan .8 F|岩 yan .4 M|妍 yan .4 F|彦 yan .2 M|杰 jie 1.1 M|洁 jie .7 F|婕 jie .2 F|涛 tao 1 M|韬 tao .2 M|明 ming 1 M|铭 ming .5 M|鸣 ming .2 M|超 chao 1 M|秀 xiu .8 F|霞 xia .9 F|夏 xia .1 N|平 ping .9 N|萍 ping .7 F|刚 gang .9 M|钢 gang .2 M|桂 gui .5 F|华 hua 1 N|桦 hua .2 N|辉 hui .9 M|慧 hui .9 F|惠 hui .4 F|晖 hui .2 M|鹏 peng .9 M|朋 peng .1 M|宇 yu 1 M|雨 yu .6 F|玉 yu .7 F|昱 yu .2 M|瑜 yu .3 F|斌 bin .8 M|彬 bin .4 M|滨 bin .2 M|波 bo .8 M|博 bo .6 M|红 hong .9 F|宏 hong .6 M|鸿 hong .3 M|虹 hong .3 F|海 hai .8 M|建 jian .9 M|健 jian .6 M|剑 jian .3 M|文 wen .9 N|雯 wen .5 F|林 lin .6 N|琳 lin .7 F|霖 lin .3 M|峰 feng .8 M|锋 feng .3 M|枫 feng .2 N|浩 hao .8 M|昊 hao .4 M|皓 hao .3 M|丹 dan .7 F|云 yun .6 N|芸 yun .3 F|欣 xin .8 F|鑫 xin .5 M|馨 xin .4 F|新 xin .3 N|佳 jia .8 F|嘉 jia .5 N|家 jia .3 M|晨 chen .7 N|辰 chen .4 M|琛 chen .2 M|梅 mei .6 F|美 mei .4 F|琴 qin .5 F|芹 qin .2 F|勤 qin .2 N|婷 ting .8 F|亭 ting .1 F|雪 xue .7 F|凯 kai .6 M|飞 fei .6 M|菲 fei .4 F|亮 liang .7 M|龙 long .6 M|东 dong .7 M|冬 dong .3 N|春 chun .6 N|国 guo .7 M|志 zhi .7 M|智 zhi .4 M|兰 lan .6 F|岚 lan .3 F|玲 ling .7 F|凌 ling .3 N|倩 qian .6 F|颖 ying .7 F|莹 ying .5 F|英 ying .5 F|帆 fan .4 N|凡 fan .3 N|晓 xiao 1 N|小 xiao .6 N|子 zi .6 N|梓 zi .4 N|思 si .6 N|一 yi .5 N|怡 yi .6 F|毅 yi .5 M|艺 yi .3 F|诗 shi .4 F|涵 han .6 F|晗 han .3 F|寒 han .2 N|睿 rui .5 M|瑞 rui .4 M|泽 ze .5 M|天 tian .5 M|振 zhen .4 M|成 cheng .5 M|诚 cheng .4 M|金 jin .4 N|德 de .4 M|荣 rong .4 N|蓉 rong .4 F|秋 qiu .3 F|翔 xiang .5 M|祥 xiang .3 M|俊 jun .3 M|宁 ning .4 N|凝 ning .2 F|安 an .4 N|晴 qing .4 F|庆 qing .3 M|青 qing .3 N|璐 lu .4 F|露 lu .3 F|路 lu .2 M|瑶 yao .5 F|遥 yao .1 N|楠 nan .5 N|南 nan .2 M|悦 yue .5 F|越 yue .3 M|月 yue .3 F|琪 qi .5 F|琦 qi .3 N|奇 qi .2 M|蕊 rui .3 F|媛 yuan .4 F|源 yuan .3 M|远 yuan .3 M`
  .split('|').map((s) => { const [c, p, w, g] = s.split(' '); return { c, p, w: Number(w), g }; });
const HOMOPHONES = new Map();
for (const g of GIVEN) {
  if (!HOMOPHONES.has(g.p)) HOMOPHONES.set(g.p, []);
  HOMOPHONES.get(g.p).push(g);
}
const drawSurname = weighted(SURNAMES);
const drawGivenM = weighted(GIVEN.filter((g) => g.g !== 'F'));
const drawGivenF = weighted(GIVEN.filter((g) => g.g !== 'M'));
const drawGivenAny = weighted(GIVEN);

// Hospitals: [full name, city, abbreviations...]; plus city hospitals below.
const HOSPITALS = [
  ['北京协和医院', '北京', '协和医院'], ['北京大学第一医院', '北京', '北大医院'],
  ['北京大学人民医院', '北京', '北大人民医院'], ['北京大学第三医院', '北京', '北医三院'],
  ['中国人民解放军总医院', '北京', '301医院', '解放军总医院'],
  ['首都医科大学附属北京天坛医院', '北京', '北京天坛医院', '天坛医院'],
  ['首都医科大学附属北京安贞医院', '北京', '安贞医院'], ['首都医科大学宣武医院', '北京', '宣武医院'],
  ['中日友好医院', '北京', '中日医院'], ['首都医科大学附属北京朝阳医院', '北京', '北京朝阳医院', '朝阳医院'],
  ['复旦大学附属中山医院', '上海', '中山医院'], ['复旦大学附属华山医院', '上海', '华山医院'],
  ['上海交通大学医学院附属瑞金医院', '上海', '瑞金医院'], ['上海交通大学医学院附属仁济医院', '上海', '仁济医院'],
  ['上海市第一人民医院', '上海', '市一医院'], ['上海市第六人民医院', '上海', '上海六院'],
  ['复旦大学附属肿瘤医院', '上海', '复旦肿瘤医院'], ['海军军医大学第一附属医院', '上海', '长海医院'],
  ['中山大学附属第一医院', '广州', '中山一院'], ['广东省人民医院', '广州', '省人民医院'],
  ['南方医科大学南方医院', '广州', '南方医院'], ['广州医科大学附属第一医院', '广州', '广医一院'],
  ['中山大学孙逸仙纪念医院', '广州', '孙逸仙纪念医院', '中山二院'],
  ['四川大学华西医院', '成都', '华西医院'], ['四川省人民医院', '成都', '川省医院'],
  ['华中科技大学同济医学院附属同济医院', '武汉', '同济医院', '武汉同济医院'],
  ['华中科技大学同济医学院附属协和医院', '武汉', '武汉协和医院'], ['武汉大学人民医院', '武汉', '湖北省人民医院'],
  ['浙江大学医学院附属第一医院', '杭州', '浙大一院'], ['浙江大学医学院附属第二医院', '杭州', '浙大二院'],
  ['浙江省人民医院', '杭州', '浙江省人民'], ['浙江大学医学院附属邵逸夫医院', '杭州', '邵逸夫医院'],
  ['江苏省人民医院', '南京', '南医大一附院'], ['南京鼓楼医院', '南京', '鼓楼医院'],
  ['东南大学附属中大医院', '南京', '中大医院'], ['西安交通大学第一附属医院', '西安', '交大一附院'],
  ['空军军医大学西京医院', '西安', '西京医院'], ['中南大学湘雅医院', '长沙', '湘雅医院'],
  ['中南大学湘雅二医院', '长沙', '湘雅二医院'], ['重庆医科大学附属第一医院', '重庆', '重医附一院'],
  ['陆军军医大学第一附属医院', '重庆', '西南医院'], ['天津医科大学总医院', '天津', '天医大总医院'],
  ['天津市第一中心医院', '天津', '天津一中心'], ['中国医科大学附属第一医院', '沈阳', '医大一院'],
  ['中国医科大学附属盛京医院', '沈阳', '盛京医院'], ['郑州大学第一附属医院', '郑州', '郑大一附院'],
  ['河南省人民医院', '郑州', '河南省医'], ['山东大学齐鲁医院', '济南', '齐鲁医院'],
  ['山东省立医院', '济南', '省立医院'], ['深圳市人民医院', '深圳', '深圳人民医院'],
  ['北京大学深圳医院', '深圳', '北大深圳医院'], ['香港大学深圳医院', '深圳', '港大深圳医院'],
  ['福建医科大学附属协和医院', '福州', '福建协和医院'], ['哈尔滨医科大学附属第一医院', '哈尔滨', '哈医大一院'],
  ['昆明医科大学第一附属医院', '昆明', '昆医附一院'],
];
for (const city of ['苏州', '无锡', '宁波', '厦门', '青岛', '大连', '合肥', '南昌', '石家庄', '太原', '南宁', '贵阳', '兰州', '乌鲁木齐', '长春', '温州']) {
  HOSPITALS.push([`${city}市第一人民医院`, city, `${city}一院`, `${city}市一医院`]);
  HOSPITALS.push([`${city}市中医院`, city, `${city}中医院`]);
  HOSPITALS.push([`${city}市妇幼保健院`, city, `${city}妇幼`]);
}
const REGION = new Map();
let regionSeq = 110100;
for (const h of HOSPITALS) if (!REGION.has(h[1])) { REGION.set(h[1], String(regionSeq)); regionSeq += 10300; }

const MAIL = ['163.com', '126.com', 'qq.com', 'sina.com', 'hotmail.com', 'gmail.com', 'yeah.net'];
const usedLicence = new Set();
const usedPhone = new Set();

const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
const pad2 = (n) => String(n).padStart(2, '0');

function newPhone() {
  for (;;) {
    const p = '1' + pick(['3', '5', '8', '7', '9']) + int(0, 9) + String(int(0, 99999999)).padStart(8, '0');
    if (!usedPhone.has(p)) { usedPhone.add(p); return p; }
  }
}

function newLicence(city, birthYear) {
  for (;;) {
    const year = Math.min(2023, birthYear + int(24, 32));
    const l = '1' + int(1, 4) + REGION.get(city) + year + String(int(0, 999)).padStart(3, '0');
    if (!usedLicence.has(l)) { usedLicence.add(l); return l; }
  }
}

function newEmail(sur, given, birthYear) {
  const r = R();
  if (r < 0.25) return `${int(10000000, 2999999999)}@qq.com`;
  const g = given.map((x) => x.p).join('');
  if (r < 0.55) return `${sur.p}${g}${String(birthYear).slice(2)}@${pick(MAIL)}`;
  if (r < 0.8) return `${g}.${sur.p}@${pick(MAIL)}`;
  return `${given.map((x) => x.p[0]).join('')}${sur.p}${int(1, 999)}@${pick(MAIL)}`;
}

function newPerson(truth) {
  const gender = chance(0.5) ? 'M' : 'F';
  const sur = drawSurname();
  const draw = gender === 'M' ? drawGivenM : drawGivenF;
  const given = chance(0.35) ? [draw()] : [draw(), draw()];
  const birth = { y: int(1955, 2000), m: int(1, 12), d: 0 };
  birth.d = int(1, new Date(Date.UTC(birth.y, birth.m, 0)).getUTCDate());
  const hosp = pick(HOSPITALS);
  return {
    truth, sur, given, gender, birth, hosp,
    phone: chance(0.1) ? '' : newPhone(),
    email: chance(0.35) ? '' : newEmail(sur, given, birth.y),
    licence: chance(0.3) ? '' : newLicence(hosp[1], birth.y),
    pinyinMissing: chance(0.05), genderMissing: chance(0.03), birthMissing: chance(0.15),
  };
}

// The record as written in a clean system.
function render(p) {
  return {
    truth: p.truth,
    name: p.sur.c + p.given.map((g) => g.c).join(''),
    pinyin: p.pinyinMissing ? '' : `${cap(p.sur.p)} ${cap(p.given.map((g) => g.p).join(''))}`,
    gender: p.genderMissing ? '' : p.gender,
    birth_date: p.birthMissing ? '' : `${p.birth.y}-${pad2(p.birth.m)}-${pad2(p.birth.d)}`,
    phone: p.phone,
    email: p.email,
    hospital: p.hosp[0],
    city: p.hosp[1],
    license_no: p.licence,
  };
}

function transpose(s) {
  if (s.length < 2) return s;
  const i = int(0, s.length - 2);
  if (s[i] === s[i + 1]) return s;
  return s.slice(0, i) + s[i + 1] + s[i] + s.slice(i + 2);
}

function digitTypo(s, from = 0) {
  const idx = [];
  for (let i = from; i < s.length; i++) if (/[0-9]/.test(s[i])) idx.push(i);
  if (!idx.length) return s;
  const i = pick(idx);
  let d;
  do d = String(int(0, 9)); while (d === s[i]);
  return s.slice(0, i) + d + s.slice(i + 1);
}

function noisyName(p, rec) {
  const given = p.given.slice();
  let keepPinyin = true;
  if (chance(0.12)) {
    const k = int(0, given.length - 1);
    const alts = HOMOPHONES.get(given[k].p).filter((g) => g.c !== given[k].c);
    if (alts.length) given[k] = pick(alts);
  } else if (chance(0.04 / 0.88)) {
    const k = int(0, given.length - 1);
    given[k] = drawGivenAny();
    keepPinyin = chance(0.5);
  }
  let name = p.sur.c + given.map((g) => g.c).join('');
  if (chance(0.03)) name = p.sur.c + ' ' + given.map((g) => g.c).join('');
  if (chance(0.02)) name = chance(0.5) ? ` ${name} ` : name + '\u3000';
  if (chance(0.02)) name = '';
  rec.name = name;
  const gp = (keepPinyin ? p.given : given).map((g) => g.p);
  let py = rec.pinyin ? `${cap(p.sur.p)} ${cap(gp.join(''))}` : '';
  if (py && chance(0.6)) {
    py = pick([
      `${p.sur.p.toUpperCase()} ${cap(gp.join(''))}`, `${p.sur.p} ${gp.join('')}`,
      `${cap(p.sur.p)}${cap(gp.join(''))}`, `${cap(p.sur.p)} ${gp.map(cap).join(' ')}`,
      `${p.sur.p}${gp.join('')}`.toUpperCase(),
    ]);
  }
  if (py && chance(0.03)) py = `${cap(gp.join(''))} ${cap(p.sur.p)}`;
  if (py && chance(0.02)) {
    const i = int(0, py.length - 1);
    if (/[a-z]/i.test(py[i])) py = py.slice(0, i) + pick('aeioungh'.split('')) + py.slice(i + 1);
  }
  rec.pinyin = chance(0.1) ? '' : py;
}

function noisyBirth(p, rec) {
  let { y, m, d } = p.birth;
  if (!rec.birth_date) return;
  if (chance(0.05) && d <= 12 && d !== m) [m, d] = [d, m];
  else if (chance(0.03)) {
    const t = new Date(Date.UTC(y, m - 1, d + int(-10, 10)));
    [y, m, d] = [t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate()];
  }
  let s = `${y}-${pad2(m)}-${pad2(d)}`;
  if (chance(0.3)) s = pick([`${y}/${m}/${d}`, `${y}${pad2(m)}${pad2(d)}`, `${y}年${m}月${d}日`]);
  if (chance(0.03)) {
    const t = digitTypo(`${y}${pad2(m)}${pad2(d)}`, 2);
    const ty = Number(t.slice(0, 4)), tm = Number(t.slice(4, 6)), td = Number(t.slice(6, 8));
    const dt = new Date(Date.UTC(ty, tm - 1, td));
    if (tm >= 1 && tm <= 12 && dt.getUTCDate() === td) s = `${ty}-${pad2(tm)}-${pad2(td)}`;
  }
  rec.birth_date = chance(0.12) ? '' : s;
}

function noisyPhone(p, rec) {
  let ph = p.phone;
  if (!ph) return;
  if (chance(0.1)) ph = newPhone();
  else if (chance(0.03)) ph = transpose(ph);
  if (chance(0.4)) {
    ph = pick([
      `${ph.slice(0, 3)}-${ph.slice(3, 7)}-${ph.slice(7)}`, `+86 ${ph.slice(0, 3)} ${ph.slice(3, 7)} ${ph.slice(7)}`,
      `0086-${ph}`, `${ph.slice(0, 3)} ${ph.slice(3, 7)} ${ph.slice(7)}`, `+86${ph}`,
    ]);
  }
  rec.phone = chance(0.12) ? '' : ph;
}

function noisyPlace(p, rec) {
  let hosp = p.hosp;
  if (chance(0.08)) {
    const same = HOSPITALS.filter((h) => h[1] === hosp[1] && h !== hosp);
    hosp = chance(0.5) && same.length ? pick(same) : pick(HOSPITALS);
  }
  let name = hosp[0];
  if (chance(0.25) && hosp.length > 2) name = pick(hosp.slice(2));
  rec.hospital = chance(0.05) ? '' : name;
  let city = hosp[1];
  if (chance(0.3)) city = city + '市';
  rec.city = chance(0.1) ? '' : city;
}

function noisyLicence(p, rec) {
  let l = p.licence;
  if (!l) return;
  if (chance(0.03)) l = transpose(l);
  else if (chance(0.02)) l = digitTypo(l);
  if (chance(0.05)) l = chance(0.5) ? `${l.slice(0, 2)} ${l.slice(2, 8)} ${l.slice(8)}` : `${l.slice(0, 8)}-${l.slice(8)}`;
  rec.license_no = chance(0.2) ? '' : l;
}

function duplicate(p) {
  const rec = render(p);
  noisyName(p, rec);
  if (chance(0.08)) rec.gender = '';
  else if (rec.gender && chance(0.01)) rec.gender = rec.gender === 'M' ? 'F' : 'M';
  noisyBirth(p, rec);
  noisyPhone(p, rec);
  if (rec.email) {
    if (chance(0.08)) rec.email = newEmail(p.sur, p.given, p.birth.y);
    else if (chance(0.1)) rec.email = rec.email.toUpperCase();
    if (chance(0.3)) rec.email = '';
  }
  noisyPlace(p, rec);
  noisyLicence(p, rec);
  return rec;
}

const records = [];
for (let e = 1; records.length < args.n; e++) {
  const p = newPerson(`E${String(e).padStart(7, '0')}`);
  records.push(render(p));
  if (chance(0.3)) {
    const r = R();
    const k = r < 0.6 ? 1 : r < 0.88 ? 2 : 3;
    for (let i = 0; i < k && records.length < args.n; i++) records.push(duplicate(p));
  }
}
for (let i = records.length - 1; i > 0; i--) {
  const j = Math.floor(R() * (i + 1));
  [records[i], records[j]] = [records[j], records[i]];
}

const COLS = ['id', 'truth', 'name', 'pinyin', 'gender', 'birth_date', 'phone', 'email', 'hospital', 'city', 'license_no'];
const q = (s) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const out = args.out ? createWriteStream(args.out) : process.stdout;
const lines = [COLS.join(',')];
records.forEach((r, i) => {
  r.id = `R${String(i + 1).padStart(7, '0')}`;
  lines.push(COLS.map((c) => q(r[c] ?? '')).join(','));
});
out.write(lines.join('\n') + '\n');
if (args.out) out.end();
