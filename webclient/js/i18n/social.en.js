// social UI texts (en). Every key must also exist in social.zh-CN.js.
export default {
};
